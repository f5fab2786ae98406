/**
 * The restore pipeline, the backup pipeline reversed: download → size and SHA-256 of the stored
 * bytes → each stage's decoder → size and SHA-256 of the original → sink, streaming. Every check
 * the metadata allows is made, and output is capped at the size the metadata states, so a
 * decompression bomb stops at that size + 1 byte; a backup without metadata is capped by
 * `maxBytes`, or by default by `UNVERIFIED_RATIO`. The caller commits its sink only after this
 * resolves.
 */
import type { Codec } from "../codec/index.js";
import { ChecksumMismatchError, CorruptDataError, NotFoundError, RestoreCapError, toTargetError } from "../errors.js";
import type { GuardedStorage } from "../storage/guard.js";
import type { BackupMeta } from "../types.js";
import { tap } from "../util/streams.js";
import { meter } from "./measure.js";
import type { Progress } from "./progress.js";
import { decodeStages } from "./stages.js";

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

export interface ReadRequest {
  storage: GuardedStorage;
  key: string;
  /** Undefined for a backup without metadata (bunqueue's oldest), which is then only capped. */
  meta: BackupMeta | undefined;
  codec: Codec;
  /** Output cap when there is no metadata (`maxRestoreBytes`); undefined: the default, `UNVERIFIED_RATIO`. */
  maxBytes: number | undefined;
  progress: Progress;
  signal: AbortSignal;
  /** Where the original bytes go (verify has nowhere); `target` names it in a `TargetError`. */
  sink?: { target: string; write(chunk: Uint8Array): void | Promise<void> };
}

export interface ReadResult {
  size: number;
  storedSize: number;
  checksum: string;
  storedChecksum: string;
  codec: "native" | "portable";
}

export async function readBackup(req: ReadRequest): Promise<ReadResult> {
  const { storage, key, meta, codec, sink } = req;
  const got = await storage.get(key, req.signal);
  if (!got) throw new NotFoundError(key);
  const expectStored = meta?.compressedSize;
  if (expectStored !== undefined && got.size !== undefined && got.size !== expectStored) {
    await got.body.cancel().catch(() => undefined);
    throw new CorruptDataError(key, `stored object has ${got.size} bytes, metadata says ${expectStored}`);
  }

  const stored = meter(codec);
  const original = meter(codec);
  // Without a stored size up front (an S3 answer without Content-Length), the default cap grows with the bytes read so far.
  const cap = (): number => (meta ? meta.size : (req.maxBytes ?? UNVERIFIED_RATIO * (got.size ?? stored.size) + UNVERIFIED_EXTRA_MIB * 1024 * 1024));
  const download = tap(got.body, (chunk) => {
    if (expectStored !== undefined && stored.size + chunk.byteLength > expectStored) {
      throw new CorruptDataError(key, `stored object is longer than the ${expectStored} bytes the metadata states`);
    }
    stored.add(chunk);
  });
  const decoded = await decodeStages(download, key, meta, codec);
  await tap(decoded, (chunk) => {
    if (original.size + chunk.byteLength > cap()) {
      if (meta) {
        throw new CorruptDataError(key, `decompressed data exceeds the ${meta.size} bytes the metadata states (refusing a possible decompression bomb)`);
      }
      const from = req.maxBytes === undefined ? `default: ${UNVERIFIED_RATIO} × its ${got.size ?? `${stored.size} so far`} stored bytes + ${UNVERIFIED_EXTRA_MIB} MiB` : "maxRestoreBytes";
      throw new RestoreCapError(key, cap(), from);
    }
    original.add(chunk);
    req.progress(original.size, stored.size);
  }).pipeTo(
    new WritableStream({
      async write(chunk) {
        try {
          await sink?.write(chunk);
        } catch (error) {
          throw toTargetError(error, sink!.target, "writing the restore target failed");
        }
      },
    }),
    { signal: req.signal },
  );
  req.progress(original.size, stored.size, true);

  const result: ReadResult = {
    size: original.size,
    storedSize: stored.size,
    checksum: original.digest(),
    storedChecksum: stored.digest(),
    codec: codec.name,
  };
  if (meta) {
    if (expectStored !== undefined && stored.size !== expectStored) {
      throw new CorruptDataError(key, `stored object has ${stored.size} bytes, metadata says ${expectStored} (truncated?)`);
    }
    if (meta.storedChecksum !== undefined && result.storedChecksum !== meta.storedChecksum) {
      throw new ChecksumMismatchError(key, "stored", meta.storedChecksum, result.storedChecksum);
    }
    if (result.size !== meta.size) throw new CorruptDataError(key, `restored ${result.size} bytes, metadata says ${meta.size}`);
    if (result.checksum !== meta.checksum) throw new ChecksumMismatchError(key, "original", meta.checksum, result.checksum);
  }
  return result;
}
