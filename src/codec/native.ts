/**
 * The codec on runtimes that provide `node:zlib` and `node:crypto` (Node, Bun, Deno,
 * workerd with nodejs_compat): the fastest measured there, and zlib works on the libuv
 * thread pool, so compression overlaps with hashing and I/O on the main thread. The
 * modules are looked up at run time; nothing here imports `node:*` statically.
 */

import type { Codec } from "./types.js";
import { loadBuiltin } from "./builtin.js";
import { gzipLevel, zstdLevel } from "./level.js";
import { CHUNK_SIZE, createCodecOutput } from "./output.js";
import { portableUnzstd } from "./portable-zstd.js";

/** The part of a `node:zlib` stream this codec relies on. */
interface ZlibStream {
  write(chunk: Uint8Array, callback: (error?: unknown) => void): boolean;
  end(): void;
  pause(): void;
  resume(): void;
  destroy(error?: unknown): void;
  on(event: "data", listener: (piece: Uint8Array) => void): void;
  on(event: "error", listener: (error: unknown) => void): void;
  on(event: "end" | "close", listener: () => void): void;
  once(event: "end", listener: () => void): void;
}

interface ZlibOptions {
  level?: number;
  /** zstd's parameters, by their `zlib.constants.ZSTD_c_*` numbers. */
  params?: Record<number, number>;
  chunkSize: number;
  readableHighWaterMark?: number;
}

type ZlibCallback = (error: Error | null, result: Uint8Array) => void;

interface ZlibModule {
  createGzip(options: ZlibOptions): ZlibStream;
  createGunzip(options: ZlibOptions): ZlibStream;
  gzip(buf: Uint8Array, options: ZlibOptions, callback: ZlibCallback): void;
  /** zstd: Node >= 22.15, Bun >= 1.4.5, Deno >= 2.9.6; not Node 20 nor workerd. */
  createZstdDecompress?(options: ZlibOptions): ZlibStream;
  zstdCompress?(buf: Uint8Array, options: ZlibOptions, callback: ZlibCallback): void;
  constants: { ZSTD_c_compressionLevel?: number; ZSTD_c_checksumFlag?: number };
}

interface CryptoModule {
  createHash(algorithm: "sha256"): { update(data: Uint8Array): unknown; digest(encoding: "hex"): string };
}

const STREAM_OPTIONS = { chunkSize: CHUNK_SIZE, readableHighWaterMark: CHUNK_SIZE };

/**
 * Decoders hand their output over in larger pieces: each piece is a round trip between zlib's
 * thread and this one, and a decoder's output is 3-4× its input (512 MiB out, SHA-256 of it on
 * this thread: zstd 1.23-1.26 → 0.96-0.98 s, gunzip 1.66-1.69 → 1.48-1.52 s, from 64 to 256 KiB).
 * A bomb is still stopped after one such piece past what the consumer takes.
 */
const DECODER_OPTIONS = { chunkSize: 4 * CHUNK_SIZE, readableHighWaterMark: 4 * CHUNK_SIZE };

/**
 * zlib hands output to the main thread every `chunkSize` bytes and its thread waits for each
 * hand-over; at the default 16 KiB that idles the pool (measured: 2 blocks in flight went from
 * ~60 to ~80 MB/s with 256 KiB). A 1 MiB block of a database at gzip -6 or zstd -3 is 300-400 KB,
 * one such chunk, no concatenation: 256 MiB in blocks, one at a time, zstd -3: 826-893 ms with
 * 256 KiB, 759-777 ms with 512 KiB (1 MiB: 780-789 ms); the CLI's 512 MiB zstd backup to RGW,
 * one worker, 3.98-4.02 → 3.75-3.79 s (bench/PROFILE.md).
 */
const BLOCK_CHUNK = 512 * 1024;

/** The native codec, or undefined where the runtime lacks `node:zlib` or `node:crypto`. */
export async function loadNativeCodec(): Promise<Codec | undefined> {
  const [zlib, crypto] = await Promise.all([
    loadBuiltin<ZlibModule>("node:zlib"),
    loadBuiltin<CryptoModule>("node:crypto"),
  ]);
  if (typeof zlib?.createGzip !== "function" || typeof crypto?.createHash !== "function") {
    return undefined;
  }
  return {
    name: "native",
    gzip(opts) {
      const level = gzipLevel(opts?.level);
      return webPair(zlib.createGzip({ level, ...STREAM_OPTIONS }));
    },
    gunzip() {
      return webPair(zlib.createGunzip(DECODER_OPTIONS));
    },
    gzipBlock(block, opts) {
      return onThreadPool(zlib.gzip.bind(zlib), block, { level: gzipLevel(opts?.level), chunkSize: BLOCK_CHUNK });
    },
    ...zstdWriter(zlib),
    async unzstd() {
      const { createZstdDecompress } = zlib;
      if (!createZstdDecompress) return portableUnzstd();
      // Loaded with the first zstd restore, like fzstd: a bundle that never reads zstd does not carry it.
      const frames = (await import("./zstd-frames.js")).frameAligned();
      return { writable: frames.writable, readable: frames.readable.pipeThrough(webPair(createZstdDecompress.call(zlib, DECODER_OPTIONS))) };
    },
    sha256() {
      const hash = crypto.createHash("sha256");
      return {
        update: (chunk) => void hash.update(chunk),
        digest: () => hash.digest("hex"),
      };
    },
  };
}

/** On libuv's thread pool: blocks compress in parallel with no worker to start. */
function onThreadPool(compress: (buf: Uint8Array, options: ZlibOptions, callback: ZlibCallback) => void, block: Uint8Array, options: ZlibOptions): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    compress(block, options, (error, out) => (error ? reject(error) : resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength)))),
  );
}

/** Whether `zlib` has what the zstd writer uses: the compressor and its level and checksum parameters. */
export function writesZstd(zlib: Pick<ZlibModule, "zstdCompress" | "constants"> | undefined): boolean {
  return typeof zlib?.zstdCompress === "function" && zlib.constants?.ZSTD_c_compressionLevel !== undefined && zlib.constants.ZSTD_c_checksumFlag !== undefined;
}

/** Where `node:zlib` compresses zstd, the codec's `zstd` writer; elsewhere none. */
function zstdWriter(zlib: ZlibModule): Pick<Codec, "zstd"> {
  if (!writesZstd(zlib)) return {};
  const zstdCompress = zlib.zstdCompress!;
  const LEVEL = zlib.constants.ZSTD_c_compressionLevel!;
  const CHECKSUM = zlib.constants.ZSTD_c_checksumFlag!;
  // The content checksum, as the `zstd` CLI writes it, lets `zstd -d` and `zstd -t` check a downloaded object on their own.
  // Not ZSTD_c_nbWorkers (a stream with it failed with ERR_STREAM_PUSH_AFTER_EOF on Node 24.21): blocks run in parallel instead.
  const params = (level?: number) => ({ [LEVEL]: zstdLevel(level), [CHECKSUM]: 1 });
  return {
    zstd: {
      block: (block, opts) => onThreadPool(zstdCompress.bind(zlib), block, { params: params(opts?.level), chunkSize: BLOCK_CHUNK }),
    },
  };
}

/**
 * A Web Streams pair over a Node zlib stream. Backpressure: writes wait for zlib (below),
 * and the zlib stream is paused while the consumer's queue is full (Node's zlib then stops
 * inflating, which bounds a gzip bomb). Zlib errors (`Z_DATA_ERROR`, "unexpected end of
 * file") error both sides.
 */
function webPair(stream: ZlibStream): ReadableWritablePair<Uint8Array, Uint8Array> {
  let failure: { reason: unknown } | undefined;
  const stopWaiting = new Set<(reason: unknown) => void>();

  const fail = (reason: unknown) => {
    if (failure) return;
    failure = { reason };
    output.error(reason);
    for (const reject of stopWaiting) reject(reason);
    stopWaiting.clear();
  };

  const output = createCodecOutput({
    pull: () => stream.resume(),
    cancel(reason) {
      fail(reason);
      stream.destroy();
    },
  });

  // Resolves when `start`'s callback is called, rejects if the stream fails first.
  const settled = (start: (done: () => void) => void) =>
    new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure.reason);
      stopWaiting.add(reject);
      start(() => {
        stopWaiting.delete(reject);
        resolve();
      });
    });

  stream.on("data", (piece) => {
    // A plain view, not the Buffer subclass: Buffer#slice shares memory where
    // Uint8Array#slice copies, a trap for consumers.
    output.push(new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength));
    if (!output.wantsMore()) stream.pause();
  });
  let ended = false;
  stream.on("end", () => {
    ended = true;
    output.close();
  });
  stream.on("error", fail);
  stream.on("close", () => ended || fail(new Error("zlib stream closed before its end")));

  // Each write is handed to zlib at once but resolves only when the one before it has
  // been consumed: zlib always has the next chunk queued, never idles between chunks, and
  // holds at most two of them, whatever their size.
  let previous = Promise.resolve();
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (failure) throw failure.reason;
      if (chunk.length === 0) return;
      const before = previous;
      previous = settled((done) => stream.write(chunk, (error) => error || done()));
      // Its failure is reported by the next write, close() or the readable side.
      previous.catch(() => {});
      await before;
    },
    async close() {
      const ended = settled((done) => stream.once("end", done));
      stream.end();
      await Promise.all([previous, ended]);
    },
    abort(reason) {
      fail(reason);
      stream.destroy();
    },
  });

  return { readable: output.readable, writable };
}
