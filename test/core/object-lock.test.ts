/**
 * The core's side of a locking storage: the retain-until time a put reports lands in the
 * metadata as `lockedUntil`, retention keeps a backup until then (and lets it go after), and
 * prune's report says what a versioned bucket keeps.
 */
import { describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { parseMeta } from "../../src/format/meta.js";
import { bytesSource, createBackupper } from "../../src/index.js";
import type { StorageAdapter } from "../../src/types.js";

/** A memory adapter that locks every object until `until()` and refuses to delete it before then. */
function lockingAdapter(until: () => string): StorageAdapter & { deletes: string[] } {
  const inner = memoryAdapter();
  const locks = new Map<string, string>();
  const deletes: string[] = [];
  return {
    ...inner,
    objectLock: { mode: "COMPLIANCE", retainDays: 1 },
    deletes,
    async put(key, body, opts) {
      const retainUntil = until();
      await inner.put(key, body, opts);
      locks.set(key, retainUntil);
      return { retainUntil };
    },
    async delete(keys, opts) {
      const locked = keys.filter((k) => Date.parse(locks.get(k) ?? "") > Date.now());
      if (locked.length) throw new Error(`locked: ${locked.join(", ")}`);
      deletes.push(...keys);
      await inner.delete(keys, opts);
    },
  };
}

describe("Object Lock in the core", () => {
  it("records lockedUntil, keeps locked backups with the reason, and deletes them once the lock passed", async () => {
    let until = new Date(Date.now() + 86_400_000).toISOString();
    const adapter = lockingAdapter(() => until);
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array([1, 2, 3]), { name: "db" }), retention: 1 });
    const first = await b.backup();
    until = new Date(Date.now() + 3_000).toISOString();
    await b.backup();

    const listed = await b.list();
    const locked = listed.find((x) => x.key === first.key)!;
    expect(locked.meta!.lockedUntil).toBe(first.meta!.lockedUntil);
    expect(Date.parse(locked.meta!.lockedUntil!)).toBeGreaterThan(Date.now() + 86_000_000);

    const report = await b.prune();
    expect(report.deleted).toEqual([]);
    expect(report.kept.find((k) => k.key === first.key)!.reasons).toEqual([`locked until ${locked.meta!.lockedUntil}`]);
    expect(report.notes).toEqual([expect.stringContaining("delete marker")]);
    expect(adapter.deletes).toEqual([]);
  });

  it("deletes a backup whose lock has passed", async () => {
    let until = new Date(Date.now() - 1000).toISOString();
    const adapter = lockingAdapter(() => until);
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array([1]), { name: "db" }), retention: 1 });
    const old = await b.backup();
    until = new Date(Date.now() + 86_400_000).toISOString();
    const kept = await b.backup();
    // backup() prunes after itself.
    expect(adapter.deletes).toContain(old.key);
    expect((await b.list()).map((x) => x.key)).toEqual([kept.key]);
  });

  it("says nothing about versioning for a storage without a lock", async () => {
    const b = createBackupper({ adapter: memoryAdapter(), source: bytesSource(new Uint8Array([1]), { name: "db" }) });
    await b.backup();
    expect((await b.prune()).notes).toBeUndefined();
  });

  it("refuses a lockedUntil that is not a time", () => {
    const meta = { timestamp: "2026-01-01T00:00:00Z", version: "1", size: 0, checksum: "0".repeat(64), lockedUntil: "soon" };
    expect(() => parseMeta("k.meta.json", new TextEncoder().encode(JSON.stringify(meta)))).toThrow(/lockedUntil/);
  });
});
