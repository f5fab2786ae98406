/**
 * A prune plans from one listing of the prefix; when it deletes, one more listing confirms that
 * the deleted keys are gone (a provider may answer success and keep them). Nothing else lists.
 */
import { describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { bytesSource, createBackupper, type StorageAdapter } from "../../src/index.js";
import { randomBytes } from "../helpers/data.js";

function counting(inner: StorageAdapter): { adapter: StorageAdapter; lists: string[] } {
  const lists: string[] = [];
  const adapter: StorageAdapter = {
    name: inner.name,
    list: (prefix, opts) => (lists.push(prefix), inner.list(prefix, opts)),
    put: (key, body, opts) => inner.put(key, body, opts),
    get: (key, opts) => inner.get(key, opts),
    delete: (keys, opts) => inner.delete(keys, opts),
  };
  return { adapter, lists };
}

describe("listings per prune", () => {
  it("one for a prune that deletes nothing, two for one that deletes", async () => {
    const { adapter, lists } = counting(memoryAdapter());
    const b = createBackupper({ adapter, source: bytesSource(randomBytes(1000), { name: "q" }), retention: 2 });
    for (let i = 0; i < 3; i++) await b.backup();

    lists.length = 0;
    await b.prune({ dryRun: true });
    expect(lists).toEqual(["backups/q-"]);

    lists.length = 0;
    const report = await b.prune();
    expect(report.deleted).toEqual([]);
    expect(lists).toEqual(["backups/q-"]);

    lists.length = 0;
    const pruned = await createBackupper({ adapter, source: bytesSource(new Uint8Array(), { name: "q" }), retention: 1 }).prune();
    expect(pruned.deleted).toHaveLength(1);
    expect(lists).toHaveLength(2);
    expect(lists[0]).toBe("backups/q-");
    // The confirming listing asks only for what the deleted keys share.
    expect(lists[1]!.startsWith("backups/q-")).toBe(true);
  });

  it("a backup lists once, for its prune, when retention deletes nothing", async () => {
    const { adapter, lists } = counting(memoryAdapter());
    const b = createBackupper({ adapter, source: bytesSource(randomBytes(1000), { name: "q" }) });
    await b.backup();
    expect(lists).toEqual(["backups/q-"]);
  });
});
