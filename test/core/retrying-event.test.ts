/**
 * The `retrying` event: whatever an adapter reports through its options' `onRetry` reaches the
 * backupper's listeners, from every operation (through the one storage guard), and a listener
 * that throws breaks nothing.
 */
import { describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { bytesSource, bytesTarget, createBackupper } from "../../src/index.js";
import type { RetryNotice, StorageAdapter } from "../../src/types.js";

const notice = (operation: string): RetryNotice => ({
  operation,
  key: undefined,
  code: "ECONNREFUSED",
  reason: "ECONNREFUSED 127.0.0.1:7480",
  status: undefined,
  attempt: 1,
  waitMs: 100,
  failingForMs: 0,
});

/** A memory adapter that reports one retry on every call, as an adapter riding out a blip would. */
function retryingAdapter(): StorageAdapter {
  const inner = memoryAdapter();
  return {
    name: "blip",
    list: (prefix, opts) => {
      opts?.onRetry?.(notice("list"));
      return inner.list(prefix, opts);
    },
    put: (key, body, opts) => {
      opts?.onRetry?.({ ...notice("put"), key });
      return inner.put(key, body, opts);
    },
    get: (key, opts) => {
      opts?.onRetry?.({ ...notice("get"), key });
      return inner.get(key, opts);
    },
    delete: (keys, opts) => {
      opts?.onRetry?.(notice("delete"));
      return inner.delete(keys, opts);
    },
  };
}

describe("retrying event", () => {
  it("reaches on('retrying') from backup, list, verify, restore and prune", async () => {
    const seen: RetryNotice[] = [];
    const b = createBackupper({ adapter: retryingAdapter(), source: bytesSource(new Uint8Array(1000), { name: "q" }), retention: 1 });
    b.on("retrying", () => {
      throw new Error("a broken listener");
    });
    b.on("retrying", (n) => void seen.push(n));
    const first = await b.backup();
    const second = await b.backup();
    expect(seen.filter((n) => n.operation === "put").map((n) => n.key)).toEqual([first.key, first.metaKey, second.key, second.metaKey]);
    seen.length = 0;
    await b.list();
    await b.verify(second.key);
    await b.restore(second.key, { to: bytesTarget() });
    await b.prune();
    expect(new Set(seen.map((n) => n.operation))).toEqual(new Set(["list", "get"]));
    expect(seen[0]).toEqual(notice("list"));
  });

  it("is one of the hooks the on option takes", async () => {
    const seen: RetryNotice[] = [];
    const b = createBackupper({ adapter: retryingAdapter(), source: bytesSource(new Uint8Array(10)), on: { retrying: (n) => void seen.push(n) } });
    await b.list();
    expect(seen).toEqual([notice("list")]);
  });
});
