import { gzipSync } from "node:zlib";
import { encodeMeta } from "../../src/format/meta.js";
import type { BackupMeta, StorageAdapter } from "../../src/types.js";
import { sha256 } from "./data.js";

/** Writes a backup the way bunqueue does (current: gzip under `.db` with metadata), for compatibility tests. */
export async function putBunqueueBackup(
  adapter: StorageAdapter,
  key: string,
  data: Uint8Array,
  format: "current" | "oldest" | "no-meta-gzip" | "no-meta-raw",
): Promise<void> {
  const gz = gzipSync(data);
  const stored = format === "current" || format === "no-meta-gzip" ? gz : data;
  await adapter.put(key, stored);
  const base = { timestamp: "2025-01-01T00:00:00.000Z", version: "2.1.0", size: data.byteLength, checksum: sha256(data) };
  let meta: BackupMeta | undefined;
  if (format === "current") meta = { ...base, compressedSize: gz.byteLength, compressed: true };
  if (format === "oldest") meta = base;
  if (meta) await adapter.put(`${key}.meta.json`, encodeMeta(meta));
}

export async function readObject(adapter: StorageAdapter, key: string): Promise<Uint8Array> {
  const got = await adapter.get(key);
  if (!got) throw new Error(`no object ${key}`);
  return new Uint8Array(await new Response(got.body).arrayBuffer());
}

export async function listKeys(adapter: StorageAdapter, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  for await (const e of adapter.list(prefix)) keys.push(e.key);
  return keys.sort();
}
