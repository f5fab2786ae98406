/**
 * zstd (RFC 8878): one frame, or blocks compressed concurrently as concatenated frames, which
 * `zstd -d` reads as one stream (docs/FORMAT.md §4, `backupper/2`). Written only where `node:zlib`
 * has zstd; read everywhere (fzstd where it has not).
 */
import { canWriteZstd } from "../../codec/index.js";
import { parallelBlocks } from "../../codec/parallel.js";
import type { Stage } from "../stage.js";

export const zstd: Stage = {
  name: "zstd",
  keySuffix: ".zst",
  contentType: "application/zstd",
  meta: { compressed: true, compression: "zstd" },
  format: "backupper/2",
  magic: new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]),
  levels: { min: 1, max: 19, default: 3 },
  unwritable: (prefer) =>
    canWriteZstd(prefer)
      ? undefined
      : `"zstd" is written only by the native codec on Node >= 22.15, Bun or Deno (this runtime reads it only)`,
  encode(codec, { compressionLevel: level, compressionWorkers: workers }) {
    // `unwritable` refused this configuration at createBackupper.
    const writer = codec.zstd!;
    return workers <= 1 ? writer.stream({ level }) : parallelBlocks((block) => writer.block(block, { level }), { workers });
  },
  decode: (codec) => codec.unzstd(),
};
