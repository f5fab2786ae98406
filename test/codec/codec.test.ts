import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { getCodec, isGzip, type Codec } from "../../src/codec/index.js";
import { chunksOf, collect, compressible, randomChunks, streamOf, through } from "./helpers.js";

const MiB = 1024 * 1024;
const names = ["native", "portable"] as const;

const samples: [string, Buffer][] = [
  ["empty", Buffer.alloc(0)],
  ["1 byte", Buffer.from([0x2a])],
  ["1 MiB random", randomBytes(MiB)],
  ["6 MiB compressible", compressible(6 * MiB)],
];

function systemGzip(data: Uint8Array, args: string[] = ["-c", "-6"]): Buffer {
  const run = spawnSync("gzip", args, { input: data, maxBuffer: 1 << 30 });
  expect(run.status, run.stderr.toString()).toBe(0);
  return run.stdout;
}

function systemGunzip(data: Uint8Array): Buffer {
  const run = spawnSync("gunzip", ["-c"], { input: data, maxBuffer: 1 << 30 });
  expect(run.status, run.stderr.toString()).toBe(0);
  return run.stdout;
}

const hex = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

describe.each(names)("%s codec", (name) => {
  let codec: Codec;
  beforeAll(async () => {
    codec = await getCodec(name);
    expect(codec.name).toBe(name);
  });

  describe("gzip then gunzip round trip", () => {
    it.each(samples)("%s in one chunk", async (_, data) => {
      const gz = await through(codec.gzip(), [new Uint8Array(data)]);
      expect(isGzip(gz)).toBe(true);
      expect((await through(codec.gunzip(), [gz])).equals(data)).toBe(true);
    });

    it.each([1, 2, 3, 4, 5])("random chunk boundaries on both sides (seed %i)", async (seed) => {
      const data = Buffer.concat([compressible(2 * MiB, seed), randomBytes(300_000)]);
      const gz = await through(codec.gzip(), randomChunks(data, seed));
      const back = await through(codec.gunzip(), randomChunks(gz, seed + 100, 20_000));
      expect(back.equals(data)).toBe(true);
    });

    it("chunks of one byte", async () => {
      const data = compressible(3000);
      const gz = await through(codec.gzip(), randomChunks(data, 9, 1));
      const back = await through(codec.gunzip(), randomChunks(gz, 10, 1));
      expect(back.equals(data)).toBe(true);
    });

    it.each([0, 1, 9])("level %i", async (level) => {
      const data = compressible(MiB);
      const gz = await through(codec.gzip({ level }), [data]);
      expect(gunzipSync(gz).equals(data)).toBe(true);
      if (level === 0) expect(gz.length).toBeGreaterThan(data.length);
      else expect(gz.length).toBeLessThan(data.length / 2);
    });

    it.each([-1, 10, 1.5, Number.NaN])("rejects level %s with a ConfigError naming the option", (level) => {
      expect(() => codec.gzip({ level })).toThrow(ConfigError);
      expect(() => codec.gzip({ level })).toThrow(/^level: /);
    });

    it("emits few, large chunks", async () => {
      const data = compressible(8 * MiB);
      const gz = streamOf(randomChunks(data, 3, 4096)).pipeThrough(codec.gzip());
      const chunks = await chunksOf(gz.pipeThrough(codec.gunzip()));
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
      const small = chunks.slice(0, -1).filter((c) => c.length < 32 * 1024);
      expect(small).toEqual([]);
    });
  });

  describe("standard gzip format", () => {
    it.each(samples)("the system gunzip reads our output (%s)", async (_, data) => {
      const gz = await through(codec.gzip(), randomChunks(data, 7));
      expect(systemGunzip(gz).equals(data)).toBe(true);
    });

    it("output is reproducible: mtime 0, same bytes for the same input", async () => {
      const data = compressible(MiB);
      const a = await through(codec.gzip(), [data]);
      const b = await through(codec.gzip(), randomChunks(data, 4));
      expect(a.readUInt32LE(4)).toBe(0);
      expect(a.equals(b)).toBe(true);
    });

    it.each(samples)("reads the system gzip's output (%s)", async (_, data) => {
      const gz = systemGzip(data);
      expect((await through(codec.gunzip(), randomChunks(gz, 8))).equals(data)).toBe(true);
    });

    it("reads a member with a file name in its header (gzip FILE)", async () => {
      const dir = mkdtempSync(join(tmpdir(), "codec-"));
      try {
        const file = join(dir, `${"long-name-".repeat(20)}.db`);
        const data = compressible(200_000);
        writeFileSync(file, data);
        const gz = systemGzip(new Uint8Array(0), ["-c", "-N", file]);
        expect(gz[3]! & 0x08).toBe(0x08);
        expect((await through(codec.gunzip(), randomChunks(gz, 11, 50))).equals(data)).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("reads multi-member input, including an empty member", async () => {
      const parts = [compressible(700_000, 1), Buffer.alloc(0), randomBytes(100_000), compressible(1000, 2)];
      const gz = Buffer.concat([
        systemGzip(parts[0]!),
        await through(codec.gzip(), [parts[1]!]),
        gzipSync(parts[2]!),
        await through(codec.gzip({ level: 1 }), [parts[3]!]),
      ]);
      for (const seed of [1, 2, 3]) {
        const back = await through(codec.gunzip(), randomChunks(gz, seed, 30_000));
        expect(back.equals(Buffer.concat(parts))).toBe(true);
      }
      expect(systemGunzip(gz).equals(Buffer.concat(parts))).toBe(true);
    });
  });

  describe("corrupt or truncated input errors the stream", () => {
    const data = compressible(MiB);
    const good = gzipSync(data);
    const second = gzipSync(randomBytes(50_000));
    const flipped = (at: number) => {
      const copy = Buffer.from(good);
      copy[at]! ^= 0x10;
      return copy;
    };
    const cases: [string, Buffer][] = [
      ["empty input", Buffer.alloc(0)],
      ["not gzip", Buffer.from(compressible(10_000))],
      ["only part of the header", good.subarray(0, 5)],
      ["truncated in the middle", good.subarray(0, good.length >> 1)],
      ["whole trailer missing", good.subarray(0, good.length - 8)],
      ["half the trailer missing", good.subarray(0, good.length - 4)],
      ["last byte missing", good.subarray(0, good.length - 1)],
      ["byte flipped in the middle", flipped(good.length >> 1)],
      ["byte flipped in the CRC", flipped(good.length - 6)],
      ["byte flipped in the length", flipped(good.length - 2)],
      ["second member truncated", Buffer.concat([good, second.subarray(0, second.length - 3)])],
      ["second member corrupt", Buffer.concat([good, second.subarray(0, 20000), Buffer.from([1, 2, 3]), second.subarray(20003)])],
    ];

    it.each(cases)("%s", async (_, input) => {
      expect(() => gunzipSync(input)).toThrow();
      for (const seed of [1, 2]) {
        await expect(through(codec.gunzip(), randomChunks(input, seed, 40_000))).rejects.toThrow(Error);
      }
    });

    it("an error of the source errors the output", async () => {
      const failing = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(good.subarray(0, 1000));
          controller.error(new Error("disk on fire"));
        },
      });
      await expect(collect(failing.pipeThrough(codec.gunzip()))).rejects.toThrow("disk on fire");
    });
  });

  describe("backpressure", () => {
    it("stops inflating a gzip bomb while the consumer does not read", async () => {
      // 512 MiB of zeros in ~512 KiB of gzip (32 members), written as one chunk.
      const bomb = Buffer.concat(Array.from({ length: 32 }, () => gzipSync(Buffer.alloc(16 * MiB), { level: 9 })));
      const reader = streamOf([bomb]).pipeThrough(codec.gunzip()).getReader();
      const before = process.memoryUsage().rss;
      let read = 0;
      for (let i = 0; i < 3; i++) read += (await reader.read()).value?.length ?? 0;
      await new Promise((r) => setTimeout(r, 300));
      const grown = process.memoryUsage().rss - before;
      expect(read).toBeGreaterThan(0);
      expect(read).toBeLessThan(32 * MiB);
      expect(grown).toBeLessThan(64 * MiB);
      await reader.cancel(new Error("enough"));
    });

    it("cancelling the output stops the writer instead of hanging", async () => {
      const pair = codec.gzip();
      const written = streamOf(randomChunks(compressible(4 * MiB), 5)).pipeTo(pair.writable);
      const reader = pair.readable.getReader();
      await reader.read();
      await reader.cancel(new Error("consumer gone"));
      await expect(written).rejects.toThrow("consumer gone");
    });

    it("the source is not read far ahead of a slow consumer", async () => {
      const data = compressible(16 * MiB);
      let pulled = 0;
      const chunks = randomChunks(data, 6, 64 * 1024);
      const source = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            const chunk = chunks[pulled++];
            if (chunk) controller.enqueue(chunk);
            else controller.close();
          },
        },
        { highWaterMark: 0 },
      );
      const reader = source.pipeThrough(codec.gzip()).getReader();
      await reader.read();
      await new Promise((r) => setTimeout(r, 300));
      const pulledBytes = chunks.slice(0, pulled).reduce((n, c) => n + c.length, 0);
      expect(pulledBytes).toBeLessThan(4 * MiB);
      await reader.cancel();
    });
  });

  describe("sha256", () => {
    const sizes = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 100_000];

    it.each(sizes)("%i bytes, over random chunkings with empty chunks", (size) => {
      const data = randomBytes(size);
      for (const seed of [1, 2, 3, 4]) {
        const hasher = codec.sha256();
        for (const chunk of randomChunks(data, seed, 70)) hasher.update(chunk);
        expect(hasher.digest()).toBe(hex(data));
      }
    });

    it("matches sha256sum on several MiB fed in uneven chunks", () => {
      const data = Buffer.concat([compressible(3 * MiB), randomBytes(MiB + 17)]);
      const hasher = codec.sha256();
      for (const chunk of randomChunks(data, 12)) hasher.update(chunk);
      const run = spawnSync("sha256sum", { input: data });
      expect(hasher.digest()).toBe(run.stdout.toString().split(" ")[0]);
    });

    it("hashes the known test vector", () => {
      const hasher = codec.sha256();
      hasher.update(new TextEncoder().encode("abc"));
      expect(hasher.digest()).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    });

    it("refuses to be used after digest()", () => {
      const hasher = codec.sha256();
      hasher.update(new Uint8Array(3));
      hasher.digest();
      expect(() => hasher.update(new Uint8Array(1))).toThrow();
    });
  });
});

describe("across codecs", () => {
  let native: Codec;
  let portable: Codec;
  beforeAll(async () => {
    [native, portable] = await Promise.all([getCodec("native"), getCodec("portable")]);
  });

  it.each([
    ["native gzip -> portable gunzip", () => [native, portable] as const],
    ["portable gzip -> native gunzip", () => [portable, native] as const],
  ])("%s", async (_, pick) => {
    const [from, to] = pick();
    const data = Buffer.concat([compressible(3 * MiB), randomBytes(200_000)]);
    const gz = await through(from.gzip(), randomChunks(data, 21));
    expect((await through(to.gunzip(), randomChunks(gz, 22))).equals(data)).toBe(true);
  });
});

describe("getCodec and isGzip", () => {
  it("caches one codec per preference and picks native on Node", async () => {
    expect(getCodec("auto")).toBe(getCodec("auto"));
    expect((await getCodec()).name).toBe("native");
    expect((await getCodec("portable")).name).toBe("portable");
  });

  it("recognises the gzip magic", () => {
    expect(isGzip(new Uint8Array([0x1f, 0x8b, 8]))).toBe(true);
    expect(isGzip(new Uint8Array([0x1f, 0x8b]))).toBe(true);
    expect(isGzip(new Uint8Array([0x1f]))).toBe(false);
    expect(isGzip(new Uint8Array(0))).toBe(false);
    expect(isGzip(new TextEncoder().encode("SQLite format 3\0"))).toBe(false);
  });
});
