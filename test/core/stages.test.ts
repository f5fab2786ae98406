/**
 * The stage registry (src/pipeline/stages.ts): what each stage makes of a backup's key, object
 * and metadata, and how restore picks each stage back: from the metadata, then the key's
 * suffix, then the magic bytes.
 */
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { getCodec } from "../../src/codec/index.js";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { CorruptDataError, DecryptionError } from "../../src/errors.js";
import { parseDataKey, stagedDataKey } from "../../src/format/keys.js";
import { decodeStages, describeStages, encodeStages, stagesFor } from "../../src/pipeline/stages.js";
import { streamOf } from "../../src/util/streams.js";
import type { StageOptions } from "../../src/pipeline/stage.js";
import type { BackupMeta } from "../../src/types.js";
import { chunksOf, randomBytes } from "../helpers/data.js";

const clear = { recipients: [], passphrase: undefined, identities: [] };
const options = (compression: "gzip" | "zstd" | "none", encryption: StageOptions["encryption"] = clear): StageOptions => ({
  compression,
  compressionLevel: 6,
  compressionWorkers: 1,
  codec: "auto",
  encryption,
});
const at = new Date("2026-11-26T12:00:00.000Z");
const meta = (fields: Partial<BackupMeta>): BackupMeta => ({ timestamp: at.toISOString(), version: "x", size: 0, checksum: "0".repeat(64), ...fields });

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.concat(await chunksOf(stream));
}

describe("stages of a new backup", () => {
  it.each([
    ["gzip", ".db.gz", "application/gzip", { compressed: true, compression: "gzip" }],
    ["none", ".db", "application/octet-stream", { compressed: false, compression: "none" }],
  ] as const)("%s: key, Content-Type and metadata as docs/FORMAT.md §1–§2 state them", (compression, ending, contentType, fields) => {
    const facts = describeStages(stagesFor(options(compression)));
    const key = stagedDataKey("backups/", "q", at, "abcd1234", facts.keySuffix);
    expect(key.endsWith(ending)).toBe(true);
    expect(parseDataKey("backups/", "q", key)).toBeDefined();
    expect(facts.contentType).toBe(contentType);
    expect(facts.meta).toEqual(fields);
    expect(facts.format).toBe("backupper/1");
    expect(facts.hidesOriginal).toBe(false);
  });

  it.each([
    ["gzip", ".db.gz.age", { compressed: true, compression: "gzip", encryption: "age" }],
    ["none", ".db.age", { compressed: false, compression: "none", encryption: "age" }],
  ] as const)("%s, encrypted: key, metadata and format of age (docs/FORMAT.md §1, §2, §4)", (compression, ending, fields) => {
    const facts = describeStages(stagesFor(options(compression, { ...clear, passphrase: "p" })));
    expect(stagedDataKey("backups/", "q", at, "abcd1234", facts.keySuffix).endsWith(ending)).toBe(true);
    expect(facts.contentType).toBe("application/octet-stream");
    expect(facts.meta).toEqual(fields);
    expect(facts.format).toBe("backupper/2");
    expect(facts.hidesOriginal).toBe(true);
  });

  it("encodes and decodes back to the original", async () => {
    const codec = await getCodec("portable");
    const data = randomBytes(200_000);
    for (const compression of ["gzip", "none"] as const) {
      const stages = stagesFor(options(compression));
      const stored = await bytesOf(encodeStages(streamOf(data), stages, codec, options(compression)));
      const key = stagedDataKey("backups/", "q", at, "abcd1234", describeStages(stages).keySuffix);
      const back = await bytesOf(await decodeStages(streamOf(stored), key, meta(describeStages(stages).meta), codec, options(compression)));
      expect(back.equals(data)).toBe(true);
    }
  });

  it("encrypts to recipients, decrypts with any one identity of them, and names a missing or wrong key", async () => {
    const codec = await getCodec("portable");
    const data = randomBytes(300_000);
    const [a, b, stranger] = await Promise.all([generateIdentity(), generateIdentity(), generateIdentity()]);
    const keys = { ...clear, recipients: await Promise.all([identityToRecipient(a), identityToRecipient(b)]) };
    const stages = stagesFor(options("gzip", keys));
    const stored = await bytesOf(encodeStages(streamOf(data), stages, codec, options("gzip", keys)));
    expect(stored.subarray(0, 22).toString()).toBe("age-encryption.org/v1\n");
    const key = stagedDataKey("backups/", "q", at, "abcd1234", describeStages(stages).keySuffix);
    const decode = (identities: string[], m: BackupMeta | undefined = meta(describeStages(stages).meta)) =>
      decodeStages(streamOf(stored), key, m, codec, options("gzip", { ...clear, identities })).then(bytesOf);
    expect((await decode([b])).equals(data)).toBe(true);
    // Without metadata, the key's `.age` and `.gz` decide.
    expect((await decode([stranger, a], undefined)).equals(data)).toBe(true);
    await expect(decode([])).rejects.toMatchObject({ name: "DecryptionError", reason: "no-key" });
    await expect(decode([stranger])).rejects.toMatchObject({ name: "DecryptionError", reason: "wrong-identity" });
    const failure = await decode([stranger]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DecryptionError);
    expect(String((failure as Error).message)).not.toContain(stranger);
  });

  it("encrypts with a passphrase and says when the passphrase is wrong", async () => {
    const codec = await getCodec("portable");
    const data = randomBytes(100_000);
    const keys = { ...clear, passphrase: "correct horse" };
    const stages = stagesFor(options("none", keys));
    const stored = await bytesOf(encodeStages(streamOf(data), stages, codec, options("none", keys)));
    const key = stagedDataKey("backups/", "q", at, "abcd1234", describeStages(stages).keySuffix);
    const decode = (passphrase: string) => decodeStages(streamOf(stored), key, meta({ encryption: "age" }), codec, options("none", { ...clear, passphrase })).then(bytesOf);
    expect((await decode("correct horse")).equals(data)).toBe(true);
    await expect(decode("battery staple")).rejects.toMatchObject({ name: "DecryptionError", reason: "wrong-passphrase" });
  }, 30_000);
});

describe("stages of a stored backup", () => {
  const data = new TextEncoder().encode("SQLite format 3\0 and then some");
  const gz = new Uint8Array(gzipSync(data));
  const bunqueueKey = "backups/bunqueue-2024-06-01T00-00-00-000Z.db";
  const ownGzKey = "backups/q-2026-11-26T12-00-00-000Z-abcd1234.db.gz";

  it("the metadata decides first: `compression`, or bunqueue's `compressed` alone", async () => {
    const codec = await getCodec("portable");
    expect((await bytesOf(await decodeStages(streamOf(gz), bunqueueKey, meta({ compressed: true }), codec, options("gzip")))).equals(data)).toBe(true);
    expect((await bytesOf(await decodeStages(streamOf(gz), bunqueueKey, meta({ compression: "none" }), codec, options("gzip")))).equals(gz)).toBe(true);
  });

  it("then the key's suffix: a .db.gz key is gunzipped, whatever its first bytes", async () => {
    const codec = await getCodec("portable");
    expect((await bytesOf(await decodeStages(streamOf(gz), ownGzKey, undefined, codec, options("gzip")))).equals(data)).toBe(true);
    await expect(bytesOf(await decodeStages(streamOf(data), ownGzKey, meta({}), codec, options("gzip")))).rejects.toThrow(CorruptDataError);
  });

  it("then the magic bytes, for keys and metadata that say nothing (bunqueue's, docs/FORMAT.md §3)", async () => {
    const codec = await getCodec("portable");
    expect((await bytesOf(await decodeStages(streamOf(gz), bunqueueKey, meta({}), codec, options("gzip")))).equals(data)).toBe(true);
    expect((await bytesOf(await decodeStages(streamOf(data), bunqueueKey, undefined, codec, options("gzip")))).equals(data)).toBe(true);
    expect((await bytesOf(await decodeStages(streamOf(new Uint8Array(0)), bunqueueKey, undefined, codec, options("gzip")))).byteLength).toBe(0);
  });
});
