/**
 * `backup()`: one backup streamed through the pipeline into its data object, then the metadata
 * object, written last as the commit marker (docs/FORMAT.md §2). Anything that fails leaves no
 * object that looks restorable.
 */
import { verifiedInfo } from "../catalog.js";
import type { Codec } from "../codec/index.js";
import type { Context } from "../context.js";
import { SourceError, throwIfAborted, toBackupError, toSourceError, type BackupError } from "../errors.js";
import { metaKeyOf, randomId, stagedDataKey } from "../format/keys.js";
import { encodeMeta } from "../format/meta.js";
import { takeLease, type HeldLease } from "../lease/lease.js";
import { leaseKey } from "../lease/record.js";
import { progressReporter } from "../pipeline/progress.js";
import { describeStages, type StageFacts } from "../pipeline/stages.js";
import { encode } from "../pipeline/write.js";
import type { BackupInfo, BackupMeta, SourceSnapshot } from "../types.js";
import { anySignal, cleanupSignal } from "../util/streams.js";
import { VERSION } from "../version.js";

export type BackupOutcome = { info: BackupInfo; error?: undefined } | { info?: undefined; error: BackupError };

export interface BackupRequest {
  signal: AbortSignal;
  scheduled: boolean;
  /** Hears the outcome just before `succeeded` or `failed` is emitted, so that a listener reading the status sees it. */
  settled(outcome: BackupOutcome): void;
}

/**
 * With a lease (`lease` option), the backup runs only while this process holds it. Finding it
 * held rejects before anything is written or emitted, as `BackupInProgressError` does within one
 * process. Losing it midway aborts the backup with the `LeaseHeldError` before its commit marker.
 */
export async function backup(ctx: Context, req: BackupRequest): Promise<BackupInfo> {
  if (!ctx.options.lease) return backupWith(ctx, req, undefined);
  let lease: HeldLease;
  try {
    lease = await takeLease(ctx.storage, leaseKey(ctx.scope.prefix, ctx.scope.name), { name: ctx.scope.name, ttl: ctx.options.lease.ttl, signal: req.signal });
  } catch (error) {
    throw toBackupError(error, req.signal);
  }
  try {
    return await backupWith(ctx, { ...req, signal: anySignal([req.signal, lease.lost]) }, lease);
  } finally {
    await lease.release();
  }
}

async function backupWith(ctx: Context, req: BackupRequest, lease: HeldLease | undefined): Promise<BackupInfo> {
  const { signal, scheduled } = req;
  const startedAt = new Date();
  const facts = describeStages(ctx.stages);
  const key = stagedDataKey(ctx.scope.prefix, ctx.scope.name, startedAt, randomId(), facts.keySuffix);
  ctx.emitter.emit("started", { operation: "backup", key, name: ctx.scope.name, scheduled });
  let info: BackupInfo;
  try {
    throwIfAborted(signal);
    const codec = await ctx.codec();
    const snapshot = await takeSnapshot(ctx, signal);
    try {
      const meta = await store(ctx, snapshot, { key, startedAt, facts, codec, signal, lease });
      info = { ...verifiedInfo(ctx.scope.name, key, startedAt, meta.compressedSize!, meta), durationMs: Date.now() - startedAt.getTime(), codec: codec.name };
    } finally {
      await snapshot.release?.().catch(() => undefined);
    }
  } catch (error) {
    const failure = toBackupError(error, signal);
    req.settled({ error: failure });
    ctx.emitter.emit("failed", { operation: "backup", key, error: failure, scheduled });
    throw failure;
  }
  req.settled({ info });
  ctx.emitter.emit("succeeded", info);
  return info;
}

interface Job {
  key: string;
  startedAt: Date;
  facts: StageFacts;
  codec: Codec;
  signal: AbortSignal;
  lease: HeldLease | undefined;
}

/** Streams `snapshot` into the data object, then writes its metadata; on failure removes both. */
async function store(ctx: Context, snapshot: SourceSnapshot, { key, startedAt, facts, codec, signal, lease }: Job): Promise<BackupMeta> {
  const metaKey = metaKeyOf(key);
  const progress = progressReporter((bytesRead, bytesStored) =>
    ctx.emitter.emit("progress", { operation: "backup", key, bytesRead, bytesStored, totalBytes: snapshot.size }),
  );
  const { body, original, checksum, stored, sourceFailure } = encode(snapshot.stream, ctx.stages, codec, ctx.options, progress);
  try {
    let lock: { retainUntil?: string };
    try {
      lock = await ctx.storage.put(key, body, {
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
      checksum: checksum(),
      ...facts.meta,
      mode: snapshot.mode?.toString(8),
      format: facts.format,
      name: ctx.scope.name,
      storedChecksum: stored.digest(),
      ...(lock.retainUntil === undefined ? {} : { lockedUntil: lock.retainUntil }),
    };
    // The commit marker is written only by a holder sure to keep the lease for longer than this put takes.
    await lease?.confirm();
    await ctx.storage.put(metaKey, encodeMeta(meta), { signal, contentType: "application/json" });
    return meta;
  } catch (error) {
    // Nothing restorable-looking may remain. Not under `signal`: cleanup must run after an abort
    // too, though then without waiting out an outage (a leftover data object lists as nothing,
    // and the next prune removes it).
    await ctx.storage.delete([[metaKey, key]], cleanupSignal(signal)).catch(() => undefined);
    throw error;
  }
}

async function takeSnapshot(ctx: Context, signal: AbortSignal): Promise<SourceSnapshot> {
  try {
    return await ctx.source.snapshot({ signal });
  } catch (error) {
    throw toSourceError(error, "source snapshot failed");
  }
}
