/**
 * zstd (RFC 8878): 1 MiB blocks as concatenated frames, which `zstd -d` reads as one stream
 * (docs/FORMAT.md §4, `backupper/2`), compressed `compressionWorkers` at a time. Blocks even with
 * one worker: node:zlib's zstd stream hands every 64 KiB of output to the main thread and waits
 * for it, a block is one call on the thread pool (512 MiB read, hashed and compressed one block
 * at a time: 2.3 s, as a stream 3.1 s; bench/PROFILE.md), for 0.2% more bytes. Written only where `node:zlib`
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
    return parallelBlocks((block) => writer.block(block, { level }), { workers });
  },
  decode: (codec) => codec.unzstd(),
};
