/**
 * The metadata object (docs/FORMAT.md §2): bunqueue's field names plus ours. Parsing is strict about
 * the fields it relies on, because a silently defaulted size or checksum would let a
 * corrupted backup pass as verified; unknown fields are kept for newer writers.
 */
import { InvalidMetadataError } from "../errors.js";
import type { BackupMeta } from "../types.js";

/** What a backup any bunqueue-era reader can restore says (docs/FORMAT.md §4). */
export const FORMAT = "backupper/1";
/** Formats this reader knows; `backupper/2` adds zstd. A backup in any other is refused, not guessed at. */
const FORMATS: readonly string[] = [FORMAT, "backupper/2"];
const COMPRESSIONS: readonly unknown[] = ["gzip", "zstd", "none"];
/** A metadata object is a few hundred bytes; anything far larger is not one of ours. */
export const MAX_META_BYTES = 64 * 1024;

const SHA256_HEX = /^[0-9a-f]{64}$/;

function fail(key: string, field: string | undefined, message: string, cause?: unknown): never {
  throw new InvalidMetadataError(key, message, field, cause === undefined ? undefined : { cause });
}

function size(key: string, obj: Record<string, unknown>, field: string, required: boolean): number | undefined {
  const v = obj[field];
  if (v === undefined && !required) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    fail(key, field, `"${field}" must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function sha256(key: string, obj: Record<string, unknown>, field: string, required: boolean): string | undefined {
  const v = obj[field];
  if (v === undefined && !required) return undefined;
  if (typeof v !== "string" || !SHA256_HEX.test(v.toLowerCase())) {
    fail(key, field, `"${field}" must be a SHA-256 hex string`);
  }
  return v.toLowerCase();
}

/** Parses and validates the bytes of a metadata object stored at `key`. */
export function parseMeta(key: string, bytes: Uint8Array): BackupMeta {
  if (bytes.byteLength > MAX_META_BYTES) fail(key, undefined, `metadata is ${bytes.byteLength} bytes, more than ${MAX_META_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    fail(key, undefined, "metadata is not valid UTF-8 JSON", cause);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(key, undefined, "metadata must be a JSON object");
  const obj = value as Record<string, unknown>;

  if (typeof obj.timestamp !== "string" || Number.isNaN(Date.parse(obj.timestamp))) {
    fail(key, "timestamp", '"timestamp" must be an ISO-8601 string');
  }
  if (typeof obj.version !== "string") fail(key, "version", '"version" must be a string');
  const meta: BackupMeta = {
    ...obj,
    timestamp: obj.timestamp,
    version: obj.version,
    size: size(key, obj, "size", true)!,
  };
  // An encrypted backup's metadata holds nothing computed from the original but its size (§2).
  if (obj.encryption !== undefined && obj.encryption !== "age") fail(key, "encryption", `"encryption" must be "age", got ${JSON.stringify(obj.encryption)}`);
  const checksum = sha256(key, obj, "checksum", obj.encryption === undefined);
  if (checksum !== undefined) meta.checksum = checksum;
  const compressedSize = size(key, obj, "compressedSize", false);
  if (compressedSize !== undefined) meta.compressedSize = compressedSize;
  const storedChecksum = sha256(key, obj, "storedChecksum", false);
  if (storedChecksum !== undefined) meta.storedChecksum = storedChecksum;

  if (obj.compressed !== undefined && typeof obj.compressed !== "boolean") fail(key, "compressed", '"compressed" must be a boolean');
  if (obj.compression !== undefined && !COMPRESSIONS.includes(obj.compression)) {
    fail(key, "compression", `"compression" must be "gzip", "zstd" or "none", got ${JSON.stringify(obj.compression)} (written by a newer backupper?)`);
  }
  if (obj.compressed !== undefined && obj.compression !== undefined && obj.compressed !== (obj.compression !== "none")) {
    fail(key, "compression", '"compressed" and "compression" disagree');
  }
  if (obj.format !== undefined && !FORMATS.includes(obj.format as string)) {
    fail(key, "format", `"format" must be one of ${FORMATS.map((f) => JSON.stringify(f)).join(", ")}, got ${JSON.stringify(obj.format)} (written by a newer backupper?)`);
  }
  if (obj.name !== undefined && typeof obj.name !== "string") fail(key, "name", '"name" must be a string');
  if (obj.mode !== undefined && (typeof obj.mode !== "string" || !/^[0-7]{3,4}$/.test(obj.mode))) fail(key, "mode", '"mode" must be an octal string such as "600"');
  if (obj.lockedUntil !== undefined && (typeof obj.lockedUntil !== "string" || Number.isNaN(Date.parse(obj.lockedUntil)))) {
    fail(key, "lockedUntil", '"lockedUntil" must be an ISO-8601 string');
  }
  return meta;
}

/**
 * Whether the stored bytes are compressed according to the metadata, or undefined when it does
 * not say (bunqueue's oldest format): the caller then sniffs the magic bytes.
 */
export function metaSaysCompressed(meta: BackupMeta): boolean | undefined {
  if (typeof meta.compressed === "boolean") return meta.compressed;
  if (meta.compression !== undefined) return meta.compression !== "none";
  return undefined;
}

/** The permission bits the metadata records (`mode: "600"` → `0o600`), or undefined. */
export function metaMode(meta: BackupMeta | undefined): number | undefined {
  return meta?.mode === undefined ? undefined : Number.parseInt(meta.mode, 8);
}

export function encodeMeta(meta: BackupMeta): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(meta, null, 2) + "\n");
}
