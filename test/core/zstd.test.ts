/**
 * zstd on the machine's Node (20: no native zstd, so every read here goes through fzstd): the
 * stage registry picks zstd from the metadata, the key's suffix or the magic bytes; writing it
 * where it cannot be written is a ConfigError naming `compression`; corrupt or oversized zstd
 * data is refused as CORRUPT_DATA and leaves the restore target untouched. The stored objects
 * are made by the real `zstd` CLI (libzstd, as node:zlib), several frames where it matters.
 * Writing zstd natively is tested on Node 24, Bun and Deno (test/runtimes/zstd.test.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { canWriteZstd, getCodec } from "../../src/codec/index.js";
import { writesZstd } from "../../src/codec/native.js";
import { ConfigError, CorruptDataError } from "../../src/errors.js";
import { encodeMeta, parseMeta } from "../../src/format/meta.js";
import { fileSource } from "../../src/fs.js";
import { bytesSource, createBackupper } from "../../src/index.js";
import { compressionStage, decodeStages, describeStages } from "../../src/pipeline/stages.js";
import type { StageOptions } from "../../src/pipeline/stage.js";
import type { BackupMeta, StorageAdapter } from "../../src/types.js";
import { streamOf } from "../../src/util/streams.js";
import { chunksOf, randomBytes, sha256 } from "../helpers/data.js";

const zstdCli = (input: Uint8Array, ...args: string[]) => new Uint8Array(execFileSync("zstd", ["-q", "-c", ...args], { input, maxBuffer: 1 << 30 }));
const at = "2026-11-26T12-00-00-000Z";
const ownKey = `backups/q-${at}-abcd1234.db.zst`;
const bunqueueKey = "backups/bunqueue-2024-06-01T00-00-00-000Z.db";
const meta = (fields: Partial<BackupMeta>): BackupMeta => ({ timestamp: "2026-11-26T12:00:00.000Z", version: "x", size: 0, checksum: "0".repeat(64), ...fields });

const stageOptions: StageOptions = {
  compression: "zstd",
  compressionLevel: 3,
  compressionWorkers: 1,
  codec: "auto",
  encryption: { recipients: [], passphrase: undefined, identities: [] },
};

async function decoded(stored: Uint8Array, key: string, m: BackupMeta | undefined, codec: "auto" | "portable"): Promise<Buffer> {
  return Buffer.concat(await chunksOf(await decodeStages(streamOf(stored), key, m, await getCodec(codec), stageOptions)));
}

/** Half text-like, half random, so zstd has something to do; two frames, as `compressionWorkers` writes them. */
const data = Buffer.concat([Buffer.from("SQLite format 3\0".repeat(20_000)), randomBytes(300_000)]);
const twoFrames = Buffer.concat([zstdCli(data.subarray(0, 200_000)), zstdCli(data.subarray(200_000), "-19")]);

describe("zstd in the stage registry", () => {
  for (const codec of ["auto", "portable"] as const) {
    it(`${codec} codec: picked from the metadata, the .db.zst suffix, or the magic bytes 28 b5 2f fd`, async () => {
      expect((await decoded(twoFrames, bunqueueKey, meta({ compression: "zstd" }), codec)).equals(data)).toBe(true);
      expect((await decoded(twoFrames, ownKey, undefined, codec)).equals(data)).toBe(true);
      expect((await decoded(twoFrames, bunqueueKey, meta({}), codec)).equals(data)).toBe(true);
      // Nothing says zstd: raw bytes stay raw.
      expect((await decoded(data, bunqueueKey, undefined, codec)).equals(data)).toBe(true);
    });
  }

  it("a zstd backup states compression zstd, compressed true and format backupper/2 under a .zst key", () => {
    expect(describeStages([compressionStage("zstd")!])).toEqual({
      keySuffix: ".zst",
      contentType: "application/zstd",
      meta: { compression: "zstd", compressed: true },
      format: "backupper/2",
      hidesOriginal: false,
    });
  });

  it("metadata naming an unknown compression or format is refused, zstd is read", () => {
    const bytes = (m: object) => encodeMeta(meta(m as Partial<BackupMeta>));
    expect(parseMeta(ownKey, bytes({ compression: "zstd", compressed: true, format: "backupper/2" })).compression).toBe("zstd");
    expect(() => parseMeta(ownKey, bytes({ compression: "lz4" }))).toThrow(/"compression" must be/);
    expect(() => parseMeta(ownKey, bytes({ compression: "zstd", compressed: false }))).toThrow(/disagree/);
    expect(() => parseMeta(ownKey, bytes({ format: "backupper/3" }))).toThrow(/"format" must be one of "backupper\/1", "backupper\/2"/);
  });
});

describe("choosing zstd where it cannot be written", () => {
  const options = (codec?: "portable") => ({ adapter: memoryAdapter(), source: bytesSource(data, { name: "q" }), compression: "zstd" as const, ...(codec ? { codec } : {}) });

  it("the portable codec has no zstd encoder: a ConfigError naming compression", () => {
    expect(() => createBackupper(options("portable"))).toThrow(ConfigError);
    expect(() => createBackupper(options("portable"))).toThrow(/^compression: "zstd" is written only by the native codec/);
  });

  it.runIf(!canWriteZstd("auto"))(`this runtime (${process.version}) has no native zstd compressor: a ConfigError at createBackupper`, () => {
    let error: unknown;
    try {
      createBackupper(options());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe("compression");
  });

  it("a node:zlib is taken to write zstd only with the compressor and both parameters the writer sets", () => {
    const zstdCompress = () => undefined;
    expect(writesZstd({ zstdCompress, constants: { ZSTD_c_compressionLevel: 100, ZSTD_c_checksumFlag: 201 } })).toBe(true);
    expect(writesZstd({ zstdCompress, constants: { ZSTD_c_compressionLevel: 100 } })).toBe(false);
    expect(writesZstd({ zstdCompress, constants: {} })).toBe(false);
    expect(writesZstd({ constants: { ZSTD_c_compressionLevel: 100, ZSTD_c_checksumFlag: 201 } })).toBe(false);
    expect(writesZstd(undefined)).toBe(false);
  });

  it("zstd levels are 1-19 and gzip's stay 0-9", () => {
    expect(() => createBackupper({ ...options("portable"), compressionLevel: 0 })).toThrow(/^compressionLevel: must be a whole number from 1 to 19 for zstd/);
    expect(() => createBackupper({ adapter: memoryAdapter(), source: bytesSource(data), compressionLevel: 12 })).toThrow(/^compressionLevel: .* 0 to 9 for gzip/);
    expect(() => createBackupper({ adapter: memoryAdapter(), source: bytesSource(data), compressionLevel: 9 })).not.toThrow();
  });
});

describe("restoring bad zstd data", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "backupper-zstd-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Plants `stored` as a zstd backup of `original` (metadata without storedChecksum, so the decoder is what must notice). */
  async function plant(adapter: StorageAdapter, stored: Uint8Array, original: Uint8Array, size = original.byteLength): Promise<void> {
    await adapter.put(ownKey, stored);
    const fields = { size, checksum: sha256(original), compressedSize: stored.byteLength, compression: "zstd" as const, compressed: true, format: "backupper/2" };
    await adapter.put(`${ownKey}.meta.json`, encodeMeta(meta(fields)));
  }

  async function restoreOver(stored: Uint8Array, original: Uint8Array, size?: number): Promise<{ error: unknown; target: Buffer; before: Buffer }> {
    const adapter = memoryAdapter();
    await plant(adapter, stored, original, size);
    const path = join(dir, "q.db");
    const before = Buffer.from("the database as it is now");
    await writeFile(path, before);
    const b = createBackupper({ adapter, source: fileSource(path, { name: "q" }), codec: "portable" });
    const error = await b.restore(ownKey, { force: true }).then(() => undefined, (e: unknown) => e);
    return { error, target: await readFile(path), before };
  }

  it.each([
    ["truncated", twoFrames.subarray(0, twoFrames.length - 1000)],
    ["not zstd after its magic bytes", Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(5000)])],
    ["a block header damaged", (() => { const bad = Buffer.from(twoFrames); bad[6] = 0xff; bad[7] = bad[7]! ^ 0xff; return bad; })()],
  ])("%s: CORRUPT_DATA, target untouched", async (_, stored) => {
    const { error, target, before } = await restoreOver(stored, data);
    expect(error).toBeInstanceOf(Error);
    expect((error as CorruptDataError).code === "CORRUPT_DATA" || (error as CorruptDataError).code === "CHECKSUM_MISMATCH").toBe(true);
    expect(target.equals(before)).toBe(true);
  });

  it("truncated zstd is CORRUPT_DATA from the decoder", async () => {
    const { error } = await restoreOver(twoFrames.subarray(0, twoFrames.length - 1000), data);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toMatch(/does not decode as zstd/);
  });

  it("a zstd bomb stops at the size the metadata states, without holding the output", async () => {
    const bomb = new Uint8Array(execFileSync("sh", ["-c", "head -c 536870912 /dev/zero | zstd -q -c -3"]));
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    const rssBefore = process.memoryUsage().rss;
    const { error, target, before } = await restoreOver(bomb, new Uint8Array(1024 * 1024), 1024 * 1024);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toMatch(/exceeds the 1048576 bytes the metadata states/);
    expect(target.equals(before)).toBe(true);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(128 * 1024 * 1024);
  });
});
