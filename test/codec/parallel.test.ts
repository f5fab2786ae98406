import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { Gunzip } from "fflate";
import { describe, expect, it } from "vitest";
import { createBackupper, bytesSource } from "../../src/index.js";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { ConfigError } from "../../src/errors.js";
import { getCodec } from "../../src/codec/index.js";
import { blockCompressor, parallelBlocks, type BlockCompressor } from "../../src/codec/parallel.js";
import { collect, compressible, randomChunks, rng, streamOf, through } from "./helpers.js";

const KiB = 1024;

function systemGunzip(data: Uint8Array): Buffer {
  const run = spawnSync("gunzip", ["-c"], { input: data, maxBuffer: 1 << 30 });
  expect(run.status, run.stderr.toString()).toBe(0);
  return run.stdout;
}

function fflateGunzip(data: Uint8Array): Buffer {
  const parts: Uint8Array[] = [];
  const g = new Gunzip((chunk) => parts.push(chunk));
  g.push(data, true);
  return Buffer.concat(parts);
}

const samples: [string, Buffer][] = [
  ["empty", Buffer.alloc(0)],
  ["1 byte", Buffer.from([0x2a])],
  ["exactly 4 blocks", compressible(4 * 64 * KiB, 3)],
  ["1.5 MiB compressible", compressible(1536 * KiB, 4)],
  ["300 KiB random", randomBytes(300 * KiB)],
];

describe.each(["native", "portable"] as const)("parallel gzip, %s block compressor", (name) => {
  it.each(samples)("%s: one multi-member file that zlib, gunzip, fflate and both codecs read back", async (_, data) => {
    const codec = await getCodec(name);
    const compress = await blockCompressor(codec, 6);
    const gz = await through(parallelBlocks(compress, { workers: 3, blockSize: 64 * KiB }), randomChunks(data, data.length + 1));
    expect(gz[0]).toBe(0x1f);
    expect(gunzipSync(gz).equals(data)).toBe(true);
    expect(systemGunzip(gz).equals(data)).toBe(true);
    expect(fflateGunzip(gz).equals(data)).toBe(true);
    for (const reader of ["native", "portable"] as const) {
      const back = await through((await getCodec(reader)).gunzip(), [gz]);
      expect(back.equals(data), reader).toBe(true);
    }
    // Every block is its own member: the same bytes as gzipping each block alone.
    const blocks = [];
    for (let at = 0; at < data.length || blocks.length === 0; at += 64 * KiB) blocks.push(data.subarray(at, at + 64 * KiB));
    const separately = Buffer.concat(await Promise.all(blocks.map((b) => compress(b))));
    expect(gz.equals(separately)).toBe(true);
  });
});

describe("parallel gzip ordering and memory", () => {
  it("emits blocks in input order whatever order they finish in", async () => {
    const data = compressible(200 * KiB, 9);
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = rng(seed);
      const finished: number[] = [];
      let started = 0;
      const compress: BlockCompressor = (block) => {
        const index = started++;
        const out = gzipSync(block);
        return new Promise((resolve) =>
          setTimeout(() => {
            finished.push(index);
            resolve(new Uint8Array(out));
          }, Math.floor(next() * 8)),
        );
      };
      const gz = await through(parallelBlocks(compress, { workers: 4, blockSize: 4 * KiB }), randomChunks(data, seed, 10 * KiB));
      expect(gunzipSync(gz).equals(data)).toBe(true);
      // The delays really did reorder completion, so the check above is about ordering.
      expect(finished).not.toEqual([...finished].sort((a, b) => a - b));
    }
  });

  it("never compresses more than `workers` blocks at once, holds a bounded number, and stops reading while the consumer does not read", async () => {
    const blockSize = 64 * KiB;
    const workers = 3;
    let inFlight = 0;
    let maxInFlight = 0;
    const compress: BlockCompressor = async (block) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      return new Uint8Array(gzipSync(block, { level: 0 }));
    };
    // An endless incompressible source: without backpressure it would be read without bound.
    let pulled = 0;
    const source = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled += 16 * KiB;
          controller.enqueue(randomBytes(16 * KiB));
        },
      },
      { highWaterMark: 0 },
    );
    const output = source.pipeThrough(parallelBlocks(compress, { workers, blockSize }));
    const reader = output.getReader();
    for (let i = 0; i < 50; i++) await reader.read();
    // Now stop reading and let everything that can run, run.
    let before = -1;
    while (before !== pulled) {
      before = pulled;
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(maxInFlight).toBe(workers);
    const readBytes = 50 * blockSize;
    // Held: the block being filled, 2 × `workers` in flight or finished, the output queue (2 + 1 waiting), pipe buffers.
    expect(pulled - readBytes).toBeLessThanOrEqual((2 * workers + 6) * blockSize);
    await reader.cancel();
  });

  it("a failing block errors the stream", async () => {
    let n = 0;
    const compress: BlockCompressor = async (block) => {
      if (++n === 3) throw new Error("block 3 failed");
      return new Uint8Array(gzipSync(block));
    };
    await expect(collect(streamOf([randomBytes(10 * KiB)]).pipeThrough(parallelBlocks(compress, { workers: 2, blockSize: KiB })))).rejects.toThrow(
      "block 3 failed",
    );
  });

  it("rejects workers or block sizes below 1", () => {
    const compress: BlockCompressor = async (b) => b;
    expect(() => parallelBlocks(compress, { workers: 0 })).toThrow(RangeError);
    expect(() => parallelBlocks(compress, { workers: 2, blockSize: 0 })).toThrow(RangeError);
  });
});

describe("createBackupper({ compressionWorkers })", () => {
  it("stores a multi-member gzip with the SHA-256 of the original, and restores it", async () => {
    const data = compressible(3 * 1024 * KiB + 17, 5);
    const adapter = memoryAdapter();
    const backupper = createBackupper({ adapter, source: bytesSource(data, { name: "queue" }), compressionWorkers: 2 });
    const info = await backupper.backup();
    expect(info.checksum).toBe(createHash("sha256").update(data).digest("hex"));
    const got = await adapter.get(info.key);
    const stored = await collect(got!.body);
    expect(stored.length).toBe(info.compressedSize);
    expect(systemGunzip(stored).equals(data)).toBe(true);
    // More than one member: a single-stream gzip of the same data differs.
    expect(stored.equals(gzipSync(data))).toBe(false);
    const verified = await backupper.verify(info.key);
    expect(verified.checksum).toBe(info.checksum);
  });

  it.each([0, 1.5, 65, "2"])("refuses compressionWorkers %j with a ConfigError naming it", (workers) => {
    const make = () =>
      createBackupper({ adapter: memoryAdapter(), source: bytesSource(new Uint8Array(1), { name: "q" }), compressionWorkers: workers as number });
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(/compressionWorkers/);
  });
});
