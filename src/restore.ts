/**
 * Reads one backup back: download → SHA-256 of the stored bytes → gunzip → SHA-256 of the
 * original → sink, streaming. Every check that metadata allows is made, and output is capped
 * at the size the metadata states, so a decompression bomb stops at that size + 1 byte; a
 * backup without metadata is capped by `maxRestoreBytes`, or by default by `UNVERIFIED_RATIO`.
 * The caller only commits its sink after this resolves.
 */
import { getCodec, isGzip } from "./codec/index.js";
import { BackupError, ChecksumMismatchError, CorruptDataError, NotFoundError, RestoreCapError, messageOf, toAbortedError, toTargetError } from "./errors.js";
import type { Emitter } from "./events.js";
import { metaSaysGzip } from "./format/meta.js";
import { progressReporter } from "./pipeline/progress.js";
import { peek, tap } from "./util/streams.js";
import type { GuardedStorage } from "./storage/guard.js";
import type { BackupMeta } from "./types.js";

export interface ReadOptions {
  storage: GuardedStorage;
  key: string;
  meta: BackupMeta | undefined;
  codec: "auto" | "native" | "portable";
  /** Output cap when there is no metadata (`maxRestoreBytes`); undefined: the default, `UNVERIFIED_RATIO`. */
  maxBytes: number | undefined;
  operation: "restore" | "verify";
  /** The restore target's description, for the error if writing to it fails. */
  target: string | undefined;
  emitter: Emitter;
  signal: AbortSignal;
}

/**
 * The default output cap of a backup without metadata, which states no size to stop a
 * decompression bomb at: 100 × its stored size + 64 MiB. deflate's own limit is about 1032:1
 * (a 258-byte match coded in two bits) and a bomb is built at that ratio, so a cap there would
 * stop none. SQLite files gzip at about 2-20:1; one passes 100:1 only when it is mostly
 * zero-filled free pages (a queue drained with `secure_delete` on measured 341:1), and then
 * the refusal leaves the target untouched and names `maxRestoreBytes`, which replaces this cap.
 * The 64 MiB covers small, nearly empty databases, whose fixed overhead compresses above 50:1.
 */
export const UNVERIFIED_RATIO = 100;
export const UNVERIFIED_EXTRA_MIB = 64;

export interface ReadResult {
  size: number;
  compressedSize: number;
  checksum: string;
  storedChecksum: string;
  codec: "native" | "portable";
}

export async function readBackup(opts: ReadOptions, write: (chunk: Uint8Array) => void | Promise<void>): Promise<ReadResult> {
  const { storage, key, meta, signal, emitter } = opts;
  const got = await storage.get(key, signal);
  if (!got) throw new NotFoundError(key);
  const expectStored = meta?.compressedSize;
  if (expectStored !== undefined && got.size !== undefined && got.size !== expectStored) {
    await got.body.cancel().catch(() => undefined);
    throw new CorruptDataError(key, `stored object has ${got.size} bytes, metadata says ${expectStored}`);
  }

  const codec = await getCodec(opts.codec);
  const storedHash = codec.sha256();
  const originalHash = codec.sha256();
  let storedSize = 0;
  let size = 0;
  let downloadFailure: unknown;
  let sinkFailure: unknown;
  // Without a stored size up front (an S3 answer without Content-Length), the default cap grows with the bytes read so far.
  const cap = (): number => (meta ? meta.size : (opts.maxBytes ?? UNVERIFIED_RATIO * (got.size ?? storedSize) + UNVERIFIED_EXTRA_MIB * 1024 * 1024));
  const progress = progressReporter((bytesRead, bytesStored) =>
    emitter.emit("progress", { operation: opts.operation, key, bytesRead, bytesStored, totalBytes: meta?.size }),
  );

  let stream = tap(
    got.body,
    (chunk) => {
      storedSize += chunk.byteLength;
      if (expectStored !== undefined && storedSize > expectStored) {
        throw new CorruptDataError(key, `stored object is longer than the ${expectStored} bytes the metadata states`);
      }
      storedHash.update(chunk);
    },
    (error) => (downloadFailure = error),
  );
  let gzip = meta ? metaSaysGzip(meta) : undefined;
  try {
    if (gzip === undefined) {
      const peeked = await peek(stream, 2);
      gzip = isGzip(peeked.head);
      stream = peeked.stream;
    }
    if (gzip) stream = stream.pipeThrough(codec.gunzip());
    await tap(stream, (chunk) => {
      size += chunk.byteLength;
      if (size > cap()) {
        if (meta) {
          throw new CorruptDataError(key, `decompressed data exceeds the ${meta.size} bytes the metadata states (refusing a possible decompression bomb)`);
        }
        const from = opts.maxBytes === undefined ? `default: ${UNVERIFIED_RATIO} × its ${got.size ?? `${storedSize} so far`} stored bytes + ${UNVERIFIED_EXTRA_MIB} MiB` : "maxRestoreBytes";
        throw new RestoreCapError(key, cap(), from);
      }
      originalHash.update(chunk);
      progress(size, storedSize);
    }).pipeTo(
      new WritableStream({
        async write(chunk) {
          try {
            await write(chunk);
          } catch (error) {
            sinkFailure = error;
            throw error;
          }
        },
      }),
      { signal },
    );
  } catch (error) {
    if (signal.aborted) throw toAbortedError(signal.reason);
    // The storage guard has already named it: a failed download, not corrupt data.
    if (downloadFailure !== undefined) throw downloadFailure;
    if (sinkFailure !== undefined) throw toTargetError(sinkFailure, opts.target ?? "", "writing the restore target failed");
    if (BackupError.is(error)) throw error;
    throw new CorruptDataError(key, `stored data does not decompress: ${messageOf(error)}`, { cause: error });
  }
  progress(size, storedSize, true);

  const result: ReadResult = {
    size,
    compressedSize: storedSize,
    checksum: originalHash.digest(),
    storedChecksum: storedHash.digest(),
    codec: codec.name,
  };
  if (meta) {
    if (expectStored !== undefined && storedSize !== expectStored) {
      throw new CorruptDataError(key, `stored object has ${storedSize} bytes, metadata says ${expectStored} (truncated?)`);
    }
    if (meta.storedChecksum !== undefined && result.storedChecksum !== meta.storedChecksum) {
      throw new ChecksumMismatchError(key, "stored", meta.storedChecksum, result.storedChecksum);
    }
    if (size !== meta.size) throw new CorruptDataError(key, `restored ${size} bytes, metadata says ${meta.size}`);
    if (result.checksum !== meta.checksum) throw new ChecksumMismatchError(key, "original", meta.checksum, result.checksum);
  }
  return result;
}
