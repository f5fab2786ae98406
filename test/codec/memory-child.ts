/**
 * Run in a child process by memory.test.ts: gzip -> gunzip of a generated stream of
 * `size` bytes through one codec, hashing the original and the restored bytes, then
 * prints the hashes and the process's peak RSS as JSON.
 * Usage: node --import tsx memory-child.ts <native|portable> <bytes>
 */
import { getCodec } from "../../src/codec/index.js";
import { compressible } from "./helpers.js";

const [name, sizeArg] = process.argv.slice(2);
const size = Number(sizeArg);
const codec = await getCodec(name as "native" | "portable");
const CHUNK = 1024 * 1024;
const template = new Uint8Array(compressible(CHUNK));
const original = codec.sha256();
const restored = codec.sha256();

let produced = 0;
const source = new ReadableStream<Uint8Array>(
  {
    pull(controller) {
      if (produced >= size) return controller.close();
      // A fresh, slightly different chunk each time, as a file source would give
      // (Uint8Array#slice copies; the codec may read a chunk after write() resolved).
      const chunk = template.slice(0, Math.min(CHUNK, size - produced));
      new DataView(chunk.buffer).setFloat64(0, produced);
      produced += chunk.length;
      original.update(chunk);
      controller.enqueue(chunk);
    },
  },
  { highWaterMark: 0 },
);

let restoredSize = 0;
await source
  .pipeThrough(codec.gzip())
  .pipeThrough(codec.gunzip())
  .pipeTo(
    new WritableStream({
      write(chunk) {
        restoredSize += chunk.length;
        restored.update(chunk);
      },
    }),
  );

console.log(
  JSON.stringify({
    original: original.digest(),
    restored: restored.digest(),
    size: restoredSize,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  }),
);
