/**
 * Parallel compression: the input is cut into blocks that are compressed concurrently and
 * written out in input order, each as a complete gzip member or zstd frame. A multi-member file
 * is standard gzip (RFC 1952 §2.2) and concatenated frames are standard zstd (RFC 8878 §3.1):
 * `gunzip`/`zstd -d`, `zlib` and fflate/fzstd read them back as the concatenated input.
 * The codec compresses each block (`Codec.gzipBlock`, `Codec.zstd.block`): the native one on libuv's thread pool
 * (no worker to start), the portable one with fflate on the calling thread, so the output is
 * just as standard either way.
 * Memory is bounded by the blocks in flight: at most `2 × workers` blocks (input or output)
 * plus the one being filled.
 */

import { concat } from "../util/streams.js";
import type { Codec } from "./types.js";
import { gzipLevel } from "./level.js";
import { createCodecOutput } from "./output.js";

/** Compresses one block into one complete gzip member or zstd frame. */
export type BlockCompressor = (block: Uint8Array) => Promise<Uint8Array>;

export interface ParallelBlocksOptions {
  /** Blocks compressed at the same time, >= 1. */
  workers: number;
  /** Bytes per block (the last may be shorter). Default 1 MiB. */
  blockSize?: number;
}

/** Default block: large enough that the per-member restart costs < 0.1% in size, small enough to keep memory low. */
const BLOCK_SIZE = 1024 * 1024;

/** Compresses blocks as `codec` does (natively on the thread pool, else on this thread), at `level`. */
export function blockCompressor(codec: Pick<Codec, "gzipBlock">, level?: number): BlockCompressor {
  const options = { level: gzipLevel(level) };
  return (block) => codec.gzipBlock(block, options);
}

/**
 * A stream pair whose blocks are compressed by `compress`, up to `workers` at a time,
 * and emitted in order. Writes wait while `workers` blocks are compressing, or `2 × workers`
 * are held, or the consumer is not taking output, so a slow consumer stops the reader.
 */
export function parallelBlocks(compress: BlockCompressor, opts: ParallelBlocksOptions): ReadableWritablePair<Uint8Array, Uint8Array> {
  const workers = opts.workers;
  const blockSize = opts.blockSize ?? BLOCK_SIZE;
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be an integer >= 1, got ${String(workers)}`);
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`blockSize must be an integer >= 1, got ${String(blockSize)}`);

  let failure: { reason: unknown } | undefined;
  const output = createCodecOutput({
    cancel(reason) {
      failure ??= { reason };
    },
  });
  // Blocks in input order; a finished block waits here until those before it are emitted.
  const queue: Array<Promise<Uint8Array>> = [];
  const finished = new WeakSet<Promise<Uint8Array>>();
  let running = 0;
  let onFinish: (() => void) | undefined;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let blocks = 0;

  const emitOldest = async () => {
    const out = await queue.shift()!;
    await output.ready();
    output.push(out);
  };

  // A block starts as soon as fewer than `workers` are compressing (a block done early never
  // idles a worker while an older one finishes), and the write that filled it returns at once,
  // so the next block is read and hashed while this one compresses (the CLI's 512 MiB zstd backup
  // to a directory, one worker: 2.3 s instead of 2.65 s; bench/PROFILE.md). Finished blocks wait in order, at most
  // `2 × workers` held with those compressing, so memory stays bounded when completion order is uneven.
  const submit = async (block: Uint8Array) => {
    for (;;) {
      while (queue.length > 0 && finished.has(queue[0]!)) await emitOldest();
      if (running < workers && queue.length < 2 * workers) break;
      await new Promise<void>((resolve) => (onFinish = resolve));
      onFinish = undefined;
    }
    running++;
    const job = compress(block).finally(() => {
      running--;
      finished.add(job);
      onFinish?.();
    });
    // Rejections surface when the job is awaited in order; until then they must not be unhandled.
    job.catch(() => undefined);
    queue.push(job);
    blocks++;
  };

  const takeBlock = (): Uint8Array => {
    const block = pending.length === 1 ? pending[0]! : concat(pending);
    pending = [];
    pendingBytes = 0;
    return block;
  };

  const fail = (reason: unknown) => {
    failure ??= { reason };
    output.error(reason);
  };

  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (failure) throw failure.reason;
      try {
        let rest = chunk;
        while (rest.byteLength > 0) {
          const take = Math.min(rest.byteLength, blockSize - pendingBytes);
          pending.push(take === rest.byteLength ? rest : rest.subarray(0, take));
          pendingBytes += take;
          rest = rest.subarray(take);
          if (pendingBytes === blockSize) await submit(takeBlock());
        }
      } catch (error) {
        fail(error);
        throw error;
      }
    },
    async close() {
      if (failure) throw failure.reason;
      try {
        // Empty input still becomes one (empty) member or frame: the result is always valid.
        if (pendingBytes > 0 || blocks === 0) await submit(takeBlock());
        while (queue.length > 0) await emitOldest();
        output.close();
      } catch (error) {
        fail(error);
        throw error;
      }
    },
    abort(reason) {
      fail(reason);
    },
  });

  return { readable: output.readable, writable };
}
