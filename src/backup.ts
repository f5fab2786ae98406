/**
 * One backup: snapshot → SHA-256 of the original → gzip → SHA-256 of the stored bytes →
 * data object, then the metadata object last as the commit marker. Everything streams,
 * so memory does not depend on the size of the source.
 */
import { getCodec, type Codec } from "./codec/index.js";
import { blockCompressor, parallelGzip } from "./codec/parallel.js";
import { BackupError, SourceError, toAbortedError, toSourceError } from "./errors.js";
import type { Emitter } from "./events.js";
import { dataKey, metaKeyOf, randomId } from "./format/keys.js";
import { FORMAT, encodeMeta } from "./format/meta.js";
import { progressReporter } from "./pipeline/progress.js";
import { observe, tap } from "./util/streams.js";
import type { GuardedStorage } from "./storage/guard.js";
import type { BackupInfo, BackupMeta, Source, SourceSnapshot } from "./types.js";
import { VERSION } from "./version.js";

export interface PipelineOptions {
  storage: GuardedStorage;
  prefix: string;
  name: string;
  compression: "gzip" | "none";
  compressionLevel: number;
  compressionWorkers: number;
  codec: "auto" | "native" | "portable";
  emitter: Emitter;
}

async function takeSnapshot(source: Source, signal: AbortSignal): Promise<SourceSnapshot> {
  try {
    return await source.snapshot({ signal });
  } catch (error) {
    if (signal.aborted) throw toAbortedError(signal.reason);
    throw toSourceError(error, "source snapshot failed");
  }
}

/** One gzip stream, or blocks compressed concurrently when more than one worker is allowed. */
async function gzipStage(codec: Codec, opts: PipelineOptions): Promise<ReadableWritablePair<Uint8Array, Uint8Array>> {
  const level = opts.compressionLevel;
  if (opts.compressionWorkers <= 1) return codec.gzip({ level });
  return parallelGzip(await blockCompressor(codec, level), { workers: opts.compressionWorkers });
}

export async function writeBackup(
  opts: PipelineOptions,
  source: Source,
  signal: AbortSignal,
  scheduled: boolean,
): Promise<BackupInfo> {
  const { storage, prefix, name, emitter } = opts;
  const gzip = opts.compression === "gzip";
  const startedAt = new Date();
  const key = dataKey(prefix, name, startedAt, randomId(), gzip);
  const metaKey = metaKeyOf(key);
  emitter.emit("started", { operation: "backup", key, name, scheduled });
  if (signal.aborted) throw toAbortedError(signal.reason);

  const codec: Codec = await getCodec(opts.codec);
  const snapshot = await takeSnapshot(source, signal);
  let size = 0;
  let storedSize = 0;
  let sourceFailure: unknown;
  const original = codec.sha256();
  const stored = codec.sha256();
  const progress = progressReporter((bytesRead, bytesStored) =>
    emitter.emit("progress", { operation: "backup", key, bytesRead, bytesStored, totalBytes: snapshot.size }),
  );
  let written = false;
  try {
    let body = tap(
      snapshot.stream,
      (chunk) => {
        if (!(chunk instanceof Uint8Array)) {
          sourceFailure = new TypeError(`source yielded ${Object.prototype.toString.call(chunk)}, not a Uint8Array`);
          throw sourceFailure;
        }
        original.update(chunk);
        size += chunk.byteLength;
        progress(size, storedSize);
      },
      (error) => (sourceFailure = error),
    );
    if (gzip) body = body.pipeThrough(await gzipStage(codec, opts));
    body = body.pipeThrough(
      observe((chunk) => {
        stored.update(chunk);
        storedSize += chunk.byteLength;
      }),
    );
    written = true;
    try {
      await storage.put(key, body, {
        signal,
        contentType: gzip ? "application/gzip" : "application/octet-stream",
        // gzip never grows data by more than ~0.1% plus headers; an upper bound is what part sizing needs.
        ...(snapshot.size === undefined ? {} : { sizeHint: Math.ceil(snapshot.size * 1.001) + 1024 }),
      });
    } catch (error) {
      if (sourceFailure !== undefined && !signal.aborted) {
        throw toSourceError(sourceFailure, "reading the source failed");
      }
      throw error;
    }
    if (snapshot.size !== undefined && size !== snapshot.size) {
      throw new SourceError(`source changed while it was read: expected ${snapshot.size} bytes, read ${size}`);
    }
    progress(size, storedSize, true);
    const meta: BackupMeta = {
      timestamp: startedAt.toISOString(),
      version: VERSION,
      size,
      compressedSize: storedSize,
      checksum: original.digest(),
      compressed: gzip,
      format: FORMAT,
      name,
      compression: opts.compression,
      storedChecksum: stored.digest(),
    };
    await storage.put(metaKey, encodeMeta(meta), { signal, contentType: "application/json" });
    return {
      key,
      metaKey,
      name,
      timestamp: startedAt,
      size,
      compressedSize: storedSize,
      checksum: meta.checksum,
      compressed: gzip,
      verified: true,
      meta,
      durationMs: Date.now() - startedAt.getTime(),
      codec: codec.name,
    };
  } catch (error) {
    // Nothing restorable-looking may remain. Not under `signal`: cleanup must run after an abort too.
    if (written) await storage.delete([[metaKey, key]]).catch(() => undefined);
    throw error;
  } finally {
    await snapshot.release?.().catch(() => undefined);
  }
}
