import type { FileHandle } from "node:fs/promises";
import { toAbortedError } from "../../errors.js";

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
  /** Closes the file; idempotent, also done by the stream at its end, on cancel and on error. */
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
  let onAbort: (() => void) | undefined;

  const close = (): Promise<void> => {
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    closing ??= handle.close().catch(() => undefined);
    return closing;
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        onAbort = () => {
          controller.error(toAbortedError(signal?.reason));
          void close();
        };
        if (signal?.aborted) onAbort();
        else signal?.addEventListener("abort", onAbort, { once: true });
      },
      async pull(controller) {
        const want = Math.min(CHUNK_BYTES, size - position);
        if (want === 0) {
          await close();
          controller.close();
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
          await close();
          if (!signal?.aborted) controller.error(opts.toError(error));
          return;
        }
        // An abort during the read has already errored the stream.
        if (signal?.aborted) return;
        position += want;
        controller.enqueue(chunk);
      },
      cancel() {
        return close();
      },
    },
    { highWaterMark: 1 },
  );

  return { stream, close };
}
