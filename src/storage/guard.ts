/**
 * The one boundary between the core and a storage adapter. Whatever an adapter does, the core
 * sees only this: failures normalised to the error family (`toAdapterError`), an abort of the
 * caller's signal as an `AbortedError`, keys checked before the adapter is called, read errors
 * of a `get` body mapped the same way as the call's own, deletes confirmed, every retry the
 * adapter reports passed to one listener (the backupper's `retrying` event), and optional
 * features declared once as capabilities instead of probed at each call site.
 */
import { AdapterError, toAdapterError } from "../errors.js";
import type { Body, CleanupOptions, ConditionalPutResult, GetResult, ListEntry, PutCondition, PutOptions, RetryNotice, StorageAdapter } from "../types.js";
import { tap } from "../util/streams.js";
import { checkKey } from "./key.js";

interface StorageCapabilities {
  /** Leftovers of interrupted puts can be removed (`StorageAdapter.cleanupIncomplete`). */
  readonly cleanupIncomplete: boolean;
  /** Objects are written under a retention lock on versioned storage (`StorageAdapter.objectLock`). */
  readonly objectLock: boolean;
  /** Writes can be made conditional on the object's absence or etag (`StorageAdapter.putIf`): what a lease needs. */
  readonly conditionalPut: boolean;
}

export interface GuardedStorage {
  readonly name: string;
  readonly capabilities: StorageCapabilities;
  /** Every entry under `prefix`, read to the end. */
  list(prefix: string, signal?: AbortSignal): Promise<ListEntry[]>;
  /** `retainUntil`: the ISO time the storage's lock on the new object ends, if it locks objects. */
  put(key: string, body: Body, opts?: PutOptions): Promise<{ retainUntil?: string }>;
  /** `null` when `key` does not exist; the body's read errors are normalised too. */
  get(key: string, signal?: AbortSignal): Promise<GetResult | null>;
  /**
   * Deletes each group of keys only once the group before it is gone (prune deletes metadata
   * before data, so an interruption leaves an incomplete backup, never a commit marker without
   * data), then confirms the deletes with one listing.
   */
  delete(groups: readonly (readonly string[])[], signal?: AbortSignal): Promise<void>;
  /** Only when `capabilities.conditionalPut`. */
  putIf(key: string, body: Uint8Array, condition: PutCondition, opts?: PutOptions): Promise<ConditionalPutResult>;
  /** Only when `capabilities.cleanupIncomplete`. */
  cleanupIncomplete(prefix: string, olderThan: Date, opts: CleanupOptions): Promise<string[]>;
}

/** The longest prefix all `keys` share: listing it finds each of them. */
function commonPrefix(keys: readonly string[]): string {
  let prefix = keys[0] ?? "";
  for (const key of keys) while (!key.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

export function guardStorage(raw: StorageAdapter, onRetry: (notice: RetryNotice) => void = () => undefined): GuardedStorage {
  const { name } = raw;
  const call = async <T>(operation: string, key: string | undefined, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw toAdapterError(error, name, operation, key, signal);
    }
  };

  const list: GuardedStorage["list"] = (prefix, signal) =>
    call("list", prefix, signal, async () => {
      const entries: ListEntry[] = [];
      for await (const entry of raw.list(prefix, { signal, onRetry })) entries.push(entry);
      return entries;
    });

  return {
    name,
    capabilities: {
      cleanupIncomplete: typeof raw.cleanupIncomplete === "function",
      objectLock: raw.objectLock !== undefined,
      conditionalPut: typeof raw.putIf === "function",
    },
    list,

    async put(key, body, opts) {
      checkKey(key);
      const { retainUntil } = await call("put", key, opts?.signal, () => raw.put(key, body, { ...opts, onRetry }));
      return typeof retainUntil === "string" ? { retainUntil } : {};
    },

    async putIf(key, body, condition, opts) {
      checkKey(key);
      const result = await call("put", key, opts?.signal, () => raw.putIf!(key, body, condition, { ...opts, onRetry }));
      if (result.written && (typeof result.etag !== "string" || result.etag === "")) {
        throw new AdapterError(name, "put", "a conditional put reported success without an etag", { key });
      }
      return result.written ? { written: true, etag: result.etag } : { written: false };
    },

    async get(key, signal) {
      checkKey(key);
      const got = await call("get", key, signal, () => raw.get(key, { signal, onRetry }));
      return got && { ...got, body: tap(got.body, () => undefined, (error) => toAdapterError(error, name, "get", key, signal)) };
    },

    async delete(groups, signal) {
      const keys = groups.flat();
      keys.forEach(checkKey);
      for (const group of groups) if (group.length > 0) await call("delete", undefined, signal, () => raw.delete(group, { signal, onRetry }));
      if (keys.length === 0) return;
      // Some providers answer a delete with success and keep the objects: without this
      // listing a prune would report deletions that did not happen.
      const doomed = new Set(keys);
      const left = (await list(commonPrefix(keys), signal)).filter((entry) => doomed.has(entry.key)).map((entry) => entry.key);
      if (left.length > 0) {
        throw new AdapterError(name, "delete", `reported success but still lists ${left.length} object(s): ${left.slice(0, 5).join(", ")}`);
      }
    },

    cleanupIncomplete: (prefix, olderThan, opts) =>
      call("cleanupIncomplete", undefined, opts.signal, () => raw.cleanupIncomplete!(prefix, olderThan, { ...opts, onRetry })),
  };
}
