import { randomBytes } from "node:crypto";

/** A stream that yields `chunks` in order. */
export function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

export async function collect(readable: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.concat(await chunksOf(readable));
}

export function through(
  pair: ReadableWritablePair<Uint8Array, Uint8Array>,
  chunks: Uint8Array[],
): Promise<Buffer> {
  return collect(streamOf(chunks).pipeThrough(pair));
}

export { rng } from "../helpers/generate.mjs";
export { chunksOf } from "../helpers/data.js";
import { chunksOf } from "../helpers/data.js";
import { rng } from "../helpers/generate.mjs";

/** `data` cut at random places, with empty chunks mixed in; fresh copies, as a source would give. */
export function randomChunks(data: Uint8Array, seed: number, maxChunk = 100_000): Uint8Array[] {
  const next = rng(seed);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < data.length; ) {
    if (next() < 0.1) chunks.push(new Uint8Array(0));
    const size = 1 + Math.floor(next() * Math.min(maxChunk, data.length - at));
    chunks.push(data.slice(at, at + size));
    at += size;
  }
  return chunks;
}

/** Text-like data that compresses about as well as a job-queue database (ratio 2-4). */
export function compressible(size: number, seed = 1): Buffer {
  const next = rng(seed);
  const words = Array.from({ length: 500 }, () => randomBytes(1 + Math.floor(next() * 10)).toString("hex"));
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const line = `{"id":${length},"queue":"${words[Math.floor(next() * words.length)]}","data":"${words[Math.floor(next() * words.length)]}"}\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join("")).subarray(0, size);
}
