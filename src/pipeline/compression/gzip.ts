/** gzip (RFC 1952): one stream, or blocks compressed concurrently as a multi-member file. */
import { blockCompressor, parallelBlocks } from "../../codec/parallel.js";
import type { Stage } from "../stage.js";

export const gzip: Stage = {
  name: "gzip",
  keySuffix: ".gz",
  contentType: "application/gzip",
  meta: { compressed: true, compression: "gzip" },
  magic: new Uint8Array([0x1f, 0x8b]),
  levels: { min: 0, max: 9, default: 6 },
  encode(codec, { compressionLevel: level, compressionWorkers: workers }) {
    return workers <= 1 ? codec.gzip({ level }) : parallelBlocks(blockCompressor(codec, level), { workers });
  },
  decode: (codec) => codec.gunzip(),
};
