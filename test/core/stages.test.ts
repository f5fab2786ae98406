/**
 * The stage registry (src/pipeline/stages.ts): what each stage makes of a backup's key, object
 * and metadata, and how restore picks each stage back: from the metadata, then the key's
 * suffix, then the magic bytes.
 */
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { getCodec } from "../../src/codec/index.js";
import { CorruptDataError } from "../../src/errors.js";
import { parseDataKey, stagedDataKey } from "../../src/format/keys.js";
import { decodeStages, describeStages, encodeStages, stagesFor } from "../../src/pipeline/stages.js";
import { streamOf } from "../../src/util/streams.js";
import type { BackupMeta } from "../../src/types.js";
import { chunksOf, randomBytes } from "../helpers/data.js";

const options = (compression: "gzip" | "none") => ({ compression, compressionLevel: 6, compressionWorkers: 1, codec: "auto" as const });
const at = new Date("2026-11-26T12:00:00.000Z");
const meta = (fields: Partial<BackupMeta>): BackupMeta => ({ timestamp: at.toISOString(), version: "x", size: 0, checksum: "0".repeat(64), ...fields });

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.concat(await chunksOf(stream));
}

describe("stages of a new backup", () => {
  it.each([
    ["gzip", ".db.gz", "application/gzip", { compressed: true, compression: "gzip", format: "backupper/1" }],
    ["none", ".db", "application/octet-stream", { compressed: false, compression: "none", format: "backupper/1" }],
  ] as const)("%s: key, Content-Type and metadata as docs/FORMAT.md §1–§2 state them", (compression, ending, contentType, fields) => {
    const facts = describeStages(stagesFor(options(compression)));
    const key = stagedDataKey("backups/", "q", at, "abcd1234", facts.keySuffix);
    expect(key.endsWith(ending)).toBe(true);
    expect(parseDataKey("backups/", "q", key)).toBeDefined();
    expect(facts.contentType).toBe(contentType);
    expect(facts.meta).toEqual(fields);
  });

  it("encodes and decodes back to the original", async () => {
    const codec = await getCodec("portable");
    const data = randomBytes(200_000);
    for (const compression of ["gzip", "none"] as const) {
      const stages = stagesFor(options(compression));
      const stored = await bytesOf(encodeStages(streamOf(data), stages, codec, options(compression)));
      const key = stagedDataKey("backups/", "q", at, "abcd1234", describeStages(stages).keySuffix);
      const back = await bytesOf(await decodeStages(streamOf(stored), key, meta(describeStages(stages).meta), codec));
      expect(back.equals(data)).toBe(true);
    }
  });
});

describe("stages of a stored backup", () => {
  const data = new TextEncoder().encode("SQLite format 3\0 and then some");
  const gz = new Uint8Array(gzipSync(data));
  const bunqueueKey = "backups/bunqueue-2024-06-01T00-00-00-000Z.db";
  const ownGzKey = "backups/q-2026-11-26T12-00-00-000Z-abcd1234.db.gz";

  it("the metadata decides first: `compression`, or bunqueue's `compressed` alone", async () => {
    const codec = await getCodec("portable");
    expect((await bytesOf(await decodeStages(streamOf(gz), bunqueueKey, meta({ compressed: true }), codec))).equals(data)).toBe(true);
    expect((await bytesOf(await decodeStages(streamOf(gz), bunqueueKey, meta({ compression: "none" }), codec))).equals(gz)).toBe(true);
  });

  it("then the key's suffix: a .db.gz key is gunzipped, whatever its first bytes", async () => {
    const codec = await getCodec("portable");
    expect((await bytesOf(await decodeStages(streamOf(gz), ownGzKey, undefined, codec))).equals(data)).toBe(true);
    await expect(bytesOf(await decodeStages(streamOf(data), ownGzKey, meta({}), codec))).rejects.toThrow(CorruptDataError);
  });

  it("then the magic bytes, for keys and metadata that say nothing (bunqueue's, docs/FORMAT.md §3)", async () => {
    const codec = await getCodec("portable");
    expect((await bytesOf(await decodeStages(streamOf(gz), bunqueueKey, meta({}), codec))).equals(data)).toBe(true);
    expect((await bytesOf(await decodeStages(streamOf(data), bunqueueKey, undefined, codec))).equals(data)).toBe(true);
    expect((await bytesOf(await decodeStages(streamOf(new Uint8Array(0)), bunqueueKey, undefined, codec))).byteLength).toBe(0);
  });
});
