/**
 * Turns a bucket listing into backups. A backup is complete only when its metadata object
 * (the commit marker) exists; data without metadata is an interrupted backup, except for
 * bunqueue's keys, whose oldest format never had metadata (docs/FORMAT.md §2–§3).
 */
import { InvalidMetadataError } from "./errors.js";
import { META_SUFFIX, compareNewestFirst, isLegacyId, metaKeyOf, namePrefix, parseDataKey, type Scope } from "./format/keys.js";
import { MAX_META_BYTES, metaSaysCompressed, parseMeta } from "./format/meta.js";
import { isFutureDated } from "./retention/policy.js";
import type { GuardedStorage } from "./storage/guard.js";
import type { BackupInfo, BackupMeta, ListEntry } from "./types.js";
import { readAll } from "./util/streams.js";

export interface CatalogEntry {
  key: string;
  metaKey: string;
  timestamp: Date;
  storedSize: number;
  hasMeta: boolean;
  /** Dated in the future as of the end of the listing (`isFutureDated`). */
  futureDated: boolean;
}

interface IncompleteEntry {
  key: string;
  /** Newest of the key's timestamp and the object's modification time. */
  age: Date;
}

export interface Catalog {
  /** Complete backups (and metadata-less bunqueue ones), newest first. */
  backups: CatalogEntry[];
  /** Data without metadata and metadata without data. */
  incomplete: IncompleteEntry[];
}

/** The backups and incomplete objects of `scope`, from one listing. */
export async function scan(storage: GuardedStorage, scope: Scope, signal?: AbortSignal): Promise<Catalog> {
  const { prefix, name } = scope;
  const data = new Map<string, ListEntry>();
  const metas = new Map<string, ListEntry>();
  for (const entry of await storage.list(namePrefix(prefix, name), signal)) {
    if (entry.key.endsWith(META_SUFFIX)) {
      const dataKey = entry.key.slice(0, -META_SUFFIX.length);
      if (parseDataKey(prefix, name, dataKey)) metas.set(dataKey, entry);
    } else if (parseDataKey(prefix, name, entry.key)) {
      data.set(entry.key, entry);
    }
  }

  const listedAt = Date.now();
  const backups: CatalogEntry[] = [];
  const incomplete: IncompleteEntry[] = [];
  // A leftover is as old as the later of its key's date and its modification time; a key dated in
  // the future (a wrong clock, a forged key) says nothing true, so only the storage's time counts.
  const ageOf = (key: string, entry: ListEntry, timestamp: Date) => {
    const modified = entry.lastModified?.getTime();
    const started = modified !== undefined && isFutureDated(timestamp, listedAt) ? 0 : timestamp.getTime();
    return { key, age: new Date(Math.max(started, modified ?? 0)) };
  };
  for (const [key, entry] of data) {
    const parsed = parseDataKey(prefix, name, key)!;
    const hasMeta = metas.has(key);
    if (hasMeta || (isLegacyId(parsed.id) && parsed.suffix === "")) {
      backups.push({ key, metaKey: metaKeyOf(key), timestamp: parsed.timestamp, storedSize: entry.size, hasMeta, futureDated: isFutureDated(parsed.timestamp, listedAt) });
    } else {
      incomplete.push(ageOf(key, entry, parsed.timestamp));
    }
  }
  for (const [key, entry] of metas) {
    if (!data.has(key)) incomplete.push(ageOf(metaKeyOf(key), entry, parseDataKey(prefix, name, key)!.timestamp));
  }
  backups.sort(compareNewestFirst);
  return { backups, incomplete };
}

/** Reads and validates one metadata object; undefined when it does not exist. */
export async function readMeta(storage: GuardedStorage, metaKey: string, signal?: AbortSignal): Promise<BackupMeta | undefined> {
  const got = await storage.get(metaKey, signal);
  if (!got) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = await readAll(got.body, MAX_META_BYTES);
  } catch (error) {
    if (error instanceof RangeError) {
      throw new InvalidMetadataError(metaKey, `metadata is larger than ${MAX_META_BYTES} bytes`, undefined, { cause: error });
    }
    throw error;
  }
  return parseMeta(metaKey, bytes);
}

/** A backup with valid metadata, as `list()` and `backup()` report it. */
export function verifiedInfo(name: string, key: string, timestamp: Date, storedSize: number, meta: BackupMeta): BackupInfo {
  return {
    key,
    metaKey: metaKeyOf(key),
    name,
    timestamp,
    size: meta.size,
    compressedSize: storedSize,
    checksum: meta.checksum,
    compressed: metaSaysCompressed(meta),
    verified: true,
    meta,
  };
}

/** A listed backup as `BackupInfo`, reading its metadata when it has some; undefined if that metadata is gone by now. */
export async function describeBackup(storage: GuardedStorage, scope: Scope, entry: CatalogEntry, signal?: AbortSignal): Promise<BackupInfo | undefined> {
  const unverified: BackupInfo = {
    key: entry.key,
    metaKey: entry.metaKey,
    name: scope.name,
    timestamp: entry.timestamp,
    size: undefined,
    compressedSize: entry.storedSize,
    checksum: undefined,
    compressed: undefined,
    verified: false,
    meta: undefined,
    futureDated: entry.futureDated,
  };
  if (!entry.hasMeta) return unverified;
  let meta: BackupMeta | undefined;
  try {
    meta = await readMeta(storage, entry.metaKey, signal);
  } catch (error) {
    if (error instanceof InvalidMetadataError) return { ...unverified, problem: error.message };
    throw error;
  }
  // Deleted between listing and reading (a concurrent prune): no longer a complete backup.
  if (!meta) return undefined;
  // Free to check here, and it keeps a backup whose metadata lies about its size from counting as verified for retention.
  if (meta.compressedSize !== undefined && meta.compressedSize !== entry.storedSize) {
    return { ...unverified, problem: `metadata says ${meta.compressedSize} bytes are stored, the object has ${entry.storedSize}` };
  }
  return { ...verifiedInfo(scope.name, entry.key, entry.timestamp, entry.storedSize, meta), futureDated: entry.futureDated };
}
