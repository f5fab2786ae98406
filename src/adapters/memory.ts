/**
 * `backupper/memory`: a storage adapter that keeps objects in a Map. For tests, demos and
 * short-lived processes; everything is lost when the process exits.
 */

import { throwIfAborted, toAdapterError } from "../errors.js";
import { checkKey, conditionHolds } from "../storage/key.js";
import { concat, streamOf } from "../util/streams.js";
import type { Body, ListEntry, StorageAdapter } from "../types.js";
import { bodyChunks, discardBody } from "./body.js";

interface StoredObject {
  bytes: Uint8Array;
  lastModified: Date;
  /** New on every write, so `putIf`'s `ifMatch` tells versions apart even when their bytes are equal. */
  etag: string;
}

/**
 * Bytes are copied in and out: neither the buffer given to `put` nor a chunk read from `get`
 * can change what is stored. A stream body becomes visible only once it has ended.
 */
export function memoryAdapter(): StorageAdapter {
  const objects = new Map<string, StoredObject>();
  let writes = 0;
  const store = (key: string, bytes: Uint8Array): string => {
    const etag = `"${(++writes).toString(36)}"`;
    objects.set(key, { bytes, lastModified: new Date(), etag });
    return etag;
  };

  return {
    name: "memory",

    async *list(prefix, opts) {
      throwIfAborted(opts?.signal);
      const keys = [...objects.keys()].filter((key) => key.startsWith(prefix)).sort();
      for (const key of keys) {
        throwIfAborted(opts?.signal);
        const object = objects.get(key);
        // Deleted while the caller was consuming the listing.
        if (object === undefined) continue;
        const entry: ListEntry = { key, size: object.bytes.byteLength, lastModified: object.lastModified };
        yield entry;
      }
    },

    async put(key, body, opts) {
      try {
        checkKey(key);
        const bytes = await collect(body, opts?.signal);
        return { etag: store(key, bytes) };
      } catch (error) {
        discardBody(body, error);
        throw toAdapterError(error, "memory", "put", key);
      }
    },

    async get(key, opts) {
      checkKey(key);
      throwIfAborted(opts?.signal);
      const object = objects.get(key);
      if (object === undefined) return null;
      // A copy, so a reader that mutates its chunks cannot change the stored object.
      return { body: streamOf(object.bytes.slice()), size: object.bytes.byteLength, etag: object.etag };
    },

    // Check and write happen in one synchronous step: nothing can interleave on one thread.
    async putIf(key, body, condition, opts) {
      checkKey(key);
      throwIfAborted(opts?.signal);
      const current = objects.get(key)?.etag;
      return conditionHolds(condition, current) ? { written: true, etag: store(key, body.slice()) } : { written: false };
    },

    async delete(keys, opts) {
      for (const key of keys) checkKey(key);
      throwIfAborted(opts?.signal);
      for (const key of keys) objects.delete(key);
    },
  };
}

async function collect(body: Body, signal: AbortSignal | undefined): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of bodyChunks(body, signal)) {
    // Copied now: a producer may reuse its buffer for the next chunk.
    chunks.push(chunk.slice());
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : concat(chunks);
}
