/**
 * Reading a put body (bytes or a stream) as chunks, honouring an AbortSignal. Shared by the
 * adapters so that every one of them stops reading, and releases the caller's stream, the
 * same way.
 */

import { throwIfAborted } from "../errors.js";
import type { Body } from "../types.js";

/**
 * Yields the body's chunks. An abort rejects with `AbortedError` even while a read is
 * pending (the stream is cancelled, which settles the read). If the consumer stops early or
 * fails, the stream is cancelled so its producer is not left waiting.
 */
export async function* bodyChunks(body: Body, signal?: AbortSignal): AsyncGenerator<Uint8Array, void, undefined> {
  throwIfAborted(signal);
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  const reader = body.getReader();
  const onAbort = () => {
    reader.cancel(signal?.reason).catch(() => undefined);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      throwIfAborted(signal);
      if (done) {
        finished = true;
        return;
      }
      if (!(value instanceof Uint8Array)) throw new TypeError("body stream must yield Uint8Array chunks");
      yield value;
      throwIfAborted(signal);
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Cancels a stream body that will not be read (the put failed before reading it). */
export function discardBody(body: Body, reason?: unknown): void {
  if (body instanceof ReadableStream && !body.locked) body.cancel(reason).catch(() => undefined);
}
