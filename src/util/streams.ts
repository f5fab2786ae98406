/** Small Web-Streams helpers shared by the backup and restore pipelines. */

/**
 * Wraps `stream` so every chunk passes `onChunk` (which may throw to fail the stream) and a
 * read error becomes what `onError` makes of it: the pipelines and the storage guard use this
 * to name what failed (the source, the download) before the error travels on. Pull-based, so
 * it adds no buffering of its own.
 */
export function tap(
  stream: ReadableStream<Uint8Array>,
  onChunk: (chunk: Uint8Array) => void,
  onError: (error: unknown) => unknown = (error) => error,
): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          throw onError(error);
        }
        if (result.done) {
          controller.close();
          return;
        }
        onChunk(result.value);
        controller.enqueue(result.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * `stream`, held at its end until `gate` resolves and errored as soon as `gate` rejects, so a
 * consumer that commits what it read once the stream ends (a backup writing its metadata)
 * commits nothing the gate refuses: a SQLite snapshot uploads while its check still runs.
 * Pull-based, like `tap`.
 */
export function endingAfter(stream: ReadableStream<Uint8Array>, gate: Promise<unknown>): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        gate.catch((reason: unknown) => {
          controller.error(reason);
          reader.cancel(reason).catch(() => undefined);
        });
      },
      async pull(controller) {
        const result = await reader.read();
        if (!result.done) return controller.enqueue(result.value);
        await gate;
        controller.close();
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * A transform whose output stream `make` builds, asynchronously, from its input stream: how a
 * library that maps a `ReadableStream` to a promised one (age-encryption) becomes a pipeline
 * stage. `make` runs on the first read, so nothing is loaded or computed for an unread stream.
 */
export function transformOf(make: (input: ReadableStream<Uint8Array>) => Promise<ReadableStream<Uint8Array>>): ReadableWritablePair<Uint8Array, Uint8Array> {
  const { readable: input, writable } = new TransformStream<Uint8Array, Uint8Array>();
  let output: Promise<ReadableStreamDefaultReader<Uint8Array>> | undefined;
  const readable = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        output ??= make(input).then((stream) => stream.getReader());
        const result = await (await output).read();
        if (result.done) controller.close();
        else controller.enqueue(result.value);
      },
      async cancel(reason) {
        const reader = await output?.catch(() => undefined);
        await (reader ? reader.cancel(reason) : input.cancel(reason));
      },
    },
    { highWaterMark: 0 },
  );
  return { writable, readable };
}

/** Reads a whole (small) stream into one buffer, failing once it grows past `limit` bytes. */
export async function readAll(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new RangeError(`more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return concat(chunks);
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Streams `bytes` as views of at most `chunkSize` bytes, without copying. */
export function streamOf(bytes: Uint8Array, chunkSize = 1 << 20): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= bytes.byteLength) {
          controller.close();
          return;
        }
        controller.enqueue(bytes.subarray(offset, offset + chunkSize));
        offset += chunkSize;
      },
    },
    { highWaterMark: 0 },
  );
}

/** How long a cleanup after an abort may take: long enough for one request, not for an outage. */
const CLEANUP_AFTER_ABORT_MS = 2_000;

/**
 * The signal a cleanup (an abort of an upload, the removal of a half-written backup) runs under
 * once `signal` ended an operation: none when it did not abort (after a failure the cleanup may
 * wait for the storage like any request), a short deadline when it did, so that an abort ends
 * every wait at once and the cleanup is still tried.
 */
export function cleanupSignal(signal: AbortSignal | undefined): AbortSignal | undefined {
  return signal?.aborted ? AbortSignal.timeout(CLEANUP_AFTER_ABORT_MS) : undefined;
}

/** `AbortSignal.any` where the runtime has it, else an equivalent. */
export function anySignal(signals: Array<AbortSignal | undefined>): AbortSignal {
  const list = signals.filter((s): s is AbortSignal => s !== undefined);
  const any = (AbortSignal as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  if (any) return any(list);
  const controller = new AbortController();
  for (const s of list) {
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener("abort", () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/**
 * Reads until at least `n` bytes (or the end) are buffered and returns them with a stream that
 * still yields every byte, so a format can be sniffed without consuming it.
 */
export async function peek(stream: ReadableStream<Uint8Array>, n: number): Promise<{ head: Uint8Array; stream: ReadableStream<Uint8Array> }> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let done = false;
  while (total < n) {
    const r = await reader.read();
    if (r.done) {
      done = true;
      break;
    }
    chunks.push(r.value);
    total += r.value.byteLength;
  }
  const head = chunks.length === 1 ? chunks[0]! : concat(chunks);
  let pending: Uint8Array | undefined = head.byteLength > 0 ? head : undefined;
  const rest = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (pending) {
          controller.enqueue(pending);
          pending = undefined;
          return;
        }
        if (done) {
          controller.close();
          return;
        }
        const r = await reader.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { head, stream: rest };
}
