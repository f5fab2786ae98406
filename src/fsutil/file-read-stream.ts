import type { FileHandle } from "node:fs/promises";
import { toAbortedError } from "../errors.js";

/** Bytes read per chunk: large enough for full disk throughput, small enough to keep memory flat. */
const CHUNK_BYTES = 1024 * 1024;

export interface FileReadStreamOptions {
  /**
   * Bytes to read, the size when the file was opened: a file that grows while it is read
   * yields the prefix that matches the size reported up front. A file that shrinks errors.
   */
  size: number;
  signal?: AbortSignal;
  /** Turns an I/O failure into the caller's error type. */
  toError(error: unknown): unknown;
}

export interface FileReadStream {
  stream: ReadableStream<Uint8Array>;
  /**
   * Closes the file and errors the stream if it has not ended; idempotent. The stream closes
   * the file itself at its end, on cancel and on error.
   */
  close(): Promise<void>;
}

/**
 * Streams an open file. Reads are pulled by the consumer, one chunk ahead at most, so
 * memory does not grow with the file size. The stream owns the handle.
 */
export function fileReadStream(handle: FileHandle, opts: FileReadStreamOptions): FileReadStream {
  const { size, signal } = opts;
  let position = 0;
  let closing: Promise<void> | undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Set once the stream was errored from outside (abort, early close): pending reads must not touch it. */
  let stopped = false;

  const closeHandle = (): Promise<void> => {
    signal?.removeEventListener("abort", onAbort);
    closing ??= handle.close().catch(() => undefined);
    return closing;
  };
  const stop = (error: unknown): Promise<void> => {
    if (!stopped) {
      stopped = true;
      // A no-op on a stream that has already ended.
      controller.error(error);
    }
    return closeHandle();
  };
  const onAbort = () => void stop(toAbortedError(signal?.reason));

  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        if (signal?.aborted) onAbort();
        else signal?.addEventListener("abort", onAbort, { once: true });
      },
      async pull() {
        const want = Math.min(CHUNK_BYTES, size - position);
        if (want === 0) {
          await closeHandle();
          if (!stopped) controller.close();
          return;
        }
        const chunk = new Uint8Array(want);
        try {
          let filled = 0;
          while (filled < want) {
            const { bytesRead } = await handle.read(chunk, filled, want - filled, position + filled);
            if (bytesRead === 0) throw new Error(`file ended after ${position + filled} of ${size} bytes`);
            filled += bytesRead;
          }
        } catch (error) {
          await stop(opts.toError(error));
          return;
        }
        if (stopped) return;
        position += want;
        controller.enqueue(chunk);
      },
      cancel() {
        stopped = true;
        return closeHandle();
      },
    },
    { highWaterMark: 1 },
  );

  // Closing a snapshot that was not read to the end makes a later read fail instead of hang.
  const close = () => stop(opts.toError(new Error("the file was closed before it was read to the end")));
  return { stream, close };
}
