/**
 * The frame splitter in front of node:zlib's zstd decoder (src/codec/zstd-frames.ts), which on
 * Node 24.21 and Deno drops whatever follows the first frame of a write: every frame must end a
 * piece of output, no piece may span two frames, and the bytes must pass unchanged, however the
 * input was cut. Frames from the real `zstd` CLI: checksummed or not, RLE, raw and compressed
 * blocks, multi-block, with a content size in the header or not, and a skippable frame.
 */
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { frameAligned } from "../../src/codec/zstd-frames.js";
import { chunksOf, randomBytes } from "../helpers/data.js";

const zstd = (input: Uint8Array, ...args: string[]) => new Uint8Array(execFileSync("zstd", ["-q", "-c", ...args], { input }));
const skippable = new Uint8Array([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
const frames = [
  zstd(new Uint8Array(300_000)), // RLE blocks, several of them
  zstd(randomBytes(200_000), "--no-check"), // raw blocks
  zstd(new TextEncoder().encode("job:42 state=done\n".repeat(20_000)), "-19"),
  skippable,
  zstd(new Uint8Array(0)),
  zstd(randomBytes(10, 3), "--no-content-size"),
  // Deno's zstdCompressSync of 64 MiB of zeros ends its frame with an empty raw block: a header with nothing after it.
  new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x02, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00]),
];
const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
const ends: number[] = [];
frames.reduce((at, f) => (all.set(f, at), ends.push(at + f.length), at + f.length), 0);

const streamOf = (chunks: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });

async function pieces(cuts: number[]): Promise<Uint8Array[]> {
  const points = [...new Set([0, ...cuts.map((c) => c % all.length), all.length])].sort((a, b) => a - b);
  const chunks = points.slice(1).map((end, i) => all.subarray(points[i]!, end));
  return chunksOf(streamOf(chunks).pipeThrough(frameAligned()));
}

describe("frameAligned", () => {
  it("passes every byte unchanged, ends a piece at every frame end and never spans two frames, however the input is cut", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 40 }), async (cuts) => {
        const out = await pieces(cuts);
        expect(Buffer.concat(out).equals(all)).toBe(true);
        let at = 0;
        const boundaries = new Set<number>();
        for (const piece of out) {
          const next = at + piece.length;
          expect(ends.some((end) => end > at && end < next), `a piece from ${at} to ${next} spans a frame end`).toBe(false);
          boundaries.add(next);
          at = next;
        }
        for (const end of ends) expect(boundaries.has(end), `frame end ${end}`).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it.each([
    ["truncated", all.subarray(0, all.length - 5), /truncated/],
    ["empty", new Uint8Array(0), /empty input/],
    ["not zstd", new TextEncoder().encode("SQLite format 3\0"), /no frame magic/],
  ])("%s input is an error", async (_, input, message) => {
    await expect(chunksOf(streamOf([input]).pipeThrough(frameAligned()))).rejects.toThrow(message);
  });
});
