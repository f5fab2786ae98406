/**
 * One backup: the snapshot through the pipeline (src/pipeline/write.ts) into the data object,
 * then the metadata object last as the commit marker (docs/FORMAT.md §2). Everything streams,
 * so memory does not depend on the size of the source.
 */
import { verifiedInfo } from "./catalog.js";
import { getCodec } from "./codec/index.js";
import { SourceError, toAbortedError, toSourceError } from "./errors.js";
import type { Emitter } from "./events.js";
import { metaKeyOf, randomId, stagedDataKey } from "./format/keys.js";
import { FORMAT, encodeMeta } from "./format/meta.js";
import { progressReporter } from "./pipeline/progress.js";
import { describeStages, stagesFor } from "./pipeline/stages.js";
import { encode } from "./pipeline/write.js";
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

export async function writeBackup(
  opts: PipelineOptions,
  source: Source,
  signal: AbortSignal,
  scheduled: boolean,
): Promise<BackupInfo> {
  const { storage, prefix, name, emitter } = opts;
  const stages = stagesFor(opts);
  const facts = describeStages(stages);
  const startedAt = new Date();
  const key = stagedDataKey(prefix, name, startedAt, randomId(), facts.keySuffix);
  const metaKey = metaKeyOf(key);
  emitter.emit("started", { operation: "backup", key, name, scheduled });
  if (signal.aborted) throw toAbortedError(signal.reason);

  const codec = await getCodec(opts.codec);
  const snapshot = await takeSnapshot(source, signal);
  const progress = progressReporter((bytesRead, bytesStored) =>
    emitter.emit("progress", { operation: "backup", key, bytesRead, bytesStored, totalBytes: snapshot.size }),
  );
  try {
    const { body, original, stored, sourceFailure } = encode(snapshot.stream, stages, codec, opts, progress);
    try {
      await storage.put(key, body, {
        signal,
        contentType: facts.contentType,
        // No stage grows data by more than ~0.1% plus headers; an upper bound is what part sizing needs.
        ...(snapshot.size === undefined ? {} : { sizeHint: Math.ceil(snapshot.size * 1.001) + 1024 }),
      });
    } catch (error) {
      // Storage reports a failing body as its own failure; the source is what failed.
      throw (!signal.aborted && sourceFailure()) || error;
    }
    if (snapshot.size !== undefined && original.size !== snapshot.size) {
      throw new SourceError(`source changed while it was read: expected ${snapshot.size} bytes, read ${original.size}`);
    }
    progress(original.size, stored.size, true);
    const meta: BackupMeta = {
      timestamp: startedAt.toISOString(),
      version: VERSION,
      size: original.size,
      compressedSize: stored.size,
      checksum: original.digest(),
      ...facts.meta,
      format: FORMAT,
      name,
      storedChecksum: stored.digest(),
    };
    await storage.put(metaKey, encodeMeta(meta), { signal, contentType: "application/json" });
    return { ...verifiedInfo(name, key, startedAt, stored.size, meta), durationMs: Date.now() - startedAt.getTime(), codec: codec.name };
  } catch (error) {
    // Nothing restorable-looking may remain. Not under `signal`: cleanup must run after an abort too.
    await storage.delete([[metaKey, key]]).catch(() => undefined);
    throw error;
  } finally {
    await snapshot.release?.().catch(() => undefined);
  }
}
