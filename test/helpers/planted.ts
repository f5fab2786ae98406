/**
 * Backups written straight through an adapter with any timestamp in the key, the way a host with
 * a wrong clock (or anyone who can write the bucket) leaves them: for the future-dated key tests.
 */
import { dataKey, randomId, timestampToKeyPart } from "../../src/format/keys.js";
import { encodeMeta } from "../../src/format/meta.js";
import type { StorageAdapter } from "../../src/types.js";
import { randomBytes, sha256 } from "./data.js";

export const DAY = 86_400_000;

/** A complete, verified backup of `name` dated `timestamp` (raw `.db` with consistent metadata); returns its data key. */
export async function plantBackup(adapter: StorageAdapter, name: string, timestamp: Date, size = 100): Promise<string> {
  const data = randomBytes(size, timestamp.getTime() % 1000);
  const key = dataKey("backups/", name, timestamp, randomId(), false);
  await adapter.put(key, data);
  await adapter.put(`${key}.meta.json`, encodeMeta({ timestamp: timestamp.toISOString(), version: "t", size, compressedSize: size, checksum: sha256(data), compressed: false }));
  return key;
}

/** A metadata-less object in bunqueue's oldest key shape (`<name>-<timestamp>.db`): listed as a backup, never verified. */
export async function plantJunk(adapter: StorageAdapter, name: string, timestamp: Date): Promise<string> {
  const key = `backups/${name}-${timestampToKeyPart(timestamp)}.db`;
  await adapter.put(key, new TextEncoder().encode("not a backup"));
  return key;
}

/** `n` keys dated in 2099, one day apart. */
export function in2099(n: number): Date[] {
  return Array.from({ length: n }, (_, i) => new Date(Date.UTC(2099, 0, 1 + i)));
}
