/**
 * The readable half of a codec stream. It coalesces the small pieces compressors emit
 * into chunks of at least {@link CHUNK_SIZE} bytes (fewer, larger chunks are much cheaper
 * for every later stage: hashing, multipart assembly, fetch bodies) and tells the producer
 * when the consumer has room, so a slow consumer stops the codec instead of letting
 * output pile up in memory.
 */

export const CHUNK_SIZE = 64 * 1024;

export interface CodecOutput {
  readonly readable: ReadableStream<Uint8Array>;
  /** Queues bytes for the consumer. The caller must not reuse `piece`: it may be handed on as is. */
  push(piece: Uint8Array): void;
  /** True while the consumer still wants more. */
  wantsMore(): boolean;
  /** Resolves when the consumer wants more; rejects once the readable was cancelled or errored. */
  ready(): Promise<void>;
  close(): void;
  error(reason: unknown): void;
}

export interface CodecOutputHooks {
  /** The consumer wants more (e.g. resume a paused producer). */
  pull?(): void;
  /** The consumer gave up: stop producing and free resources. */
  cancel(reason: unknown): void;
}

export function createCodecOutput(hooks: CodecOutputHooks): CodecOutput {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pending: Uint8Array | undefined;
  let filled = 0;
  let finished = false;
  let stopped: { reason: unknown } | undefined;
  let waiter: { resolve(): void; reject(reason: unknown): void } | undefined;

  const wake = (fail?: { reason: unknown }) => {
    const w = waiter;
    waiter = undefined;
    if (fail) w?.reject(fail.reason);
    else w?.resolve();
  };

  const readable = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        wake();
        hooks.pull?.();
      },
      cancel(reason) {
        finished = true;
        stopped = { reason };
        pending = undefined;
        wake(stopped);
        hooks.cancel(reason);
      },
    },
    // Counted in chunks of >= CHUNK_SIZE bytes: two queued chunks keep the consumer busy
    // while the producer works on the next one.
    { highWaterMark: 2 },
  );

  const flushPending = () => {
    if (pending && filled > 0) controller.enqueue(pending.subarray(0, filled));
    pending = undefined;
    filled = 0;
  };

  return {
    readable,
    push(piece) {
      if (finished || piece.length === 0) return;
      let rest = piece;
      if (pending) {
        // Topped up from the piece, so a short piece before a long one goes out as part of a full chunk.
        const take = Math.min(rest.length, CHUNK_SIZE - filled);
        pending.set(rest.subarray(0, take), filled);
        filled += take;
        rest = rest.subarray(take);
        if (filled === CHUNK_SIZE) flushPending();
        if (rest.length === 0) return;
      }
      if (rest.length >= CHUNK_SIZE) {
        controller.enqueue(rest);
        return;
      }
      pending = new Uint8Array(CHUNK_SIZE);
      pending.set(rest);
      filled = rest.length;
    },
    wantsMore() {
      return !finished && (controller.desiredSize ?? 0) > 0;
    },
    ready() {
      if (stopped) return Promise.reject(stopped.reason);
      if (finished || (controller.desiredSize ?? 0) > 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
      });
    },
    close() {
      if (finished) return;
      flushPending();
      finished = true;
      controller.close();
    },
    error(reason) {
      if (finished) return;
      finished = true;
      stopped = { reason };
      pending = undefined;
      controller.error(reason);
      wake(stopped);
    },
  };
}
