/**
 * `restore()` and `verify()`: one path through the key check, the metadata (and the rule for
 * backups without it) and the read pipeline. Restore adds only its target: a staged write,
 * committed after every check has passed, and discarded otherwise.
 */
import { readMeta } from "../catalog.js";
import type { Context } from "../context.js";
import { ConfigError, InvalidKeyError, NotFoundError, UnverifiedBackupError, throwIfAborted } from "../errors.js";
import { META_SUFFIX, metaKeyOf, parseDataKey } from "../format/keys.js";
import { progressReporter } from "../pipeline/progress.js";
import { readBackup, type ReadRequest, type ReadResult } from "../pipeline/read.js";
import { checkKey } from "../storage/key.js";
import type { BackupMeta, RestoreTarget } from "../types.js";

export interface RestoreOptions {
  /** Replace an existing target. Without it an existing target is a `TargetExistsError`. */
  force?: boolean;
  /** Where to restore: a location the source understands (a path for files), or any RestoreTarget. Default: the source itself. */
  to?: string | RestoreTarget;
  /** Restore a backup that has no metadata (bunqueue's oldest format), which cannot be verified. */
  allowUnverified?: boolean;
  signal?: AbortSignal;
}

export interface RestoreResult {
  key: string;
  target: string;
  size: number;
  /** Stored size in bytes (see `BackupMeta.compressedSize`). */
  compressedSize: number;
  /** SHA-256 hex of the restored bytes. */
  checksum: string;
  /** False only for a metadata-less backup restored with `allowUnverified`. */
  verified: boolean;
  durationMs: number;
  codec: "native" | "portable";
}

export interface VerifyResult {
  key: string;
  size: number;
  /** Stored size in bytes (see `BackupMeta.compressedSize`). */
  compressedSize: number;
  checksum: string;
  durationMs: number;
  codec: "native" | "portable";
}

export async function verify(ctx: Context, key: string, signal = new AbortController().signal): Promise<VerifyResult> {
  const started = Date.now();
  const meta = await openBackup(ctx, key, false, signal);
  const read = await readOpened(ctx, key, meta, "verify", signal);
  return { key, size: read.size, compressedSize: read.storedSize, checksum: read.checksum, durationMs: Date.now() - started, codec: read.codec };
}

export async function restore(ctx: Context, key: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const started = Date.now();
  const signal = opts.signal ?? new AbortController().signal;
  const to = targetOf(ctx, opts.to);
  const meta = await openBackup(ctx, key, opts.allowUnverified === true, signal);
  const target = to.description;
  const staging = await to.begin({ force: opts.force === true, signal, ...(meta ? { size: meta.size } : {}) });
  try {
    const read = await readOpened(ctx, key, meta, "restore", signal, { target, write: (chunk) => staging.write(chunk) });
    throwIfAborted(signal);
    await staging.commit();
    return {
      key,
      target,
      size: read.size,
      compressedSize: read.storedSize,
      checksum: read.checksum,
      verified: meta !== undefined,
      durationMs: Date.now() - started,
      codec: read.codec,
    };
  } catch (error) {
    await staging.abort();
    throw error;
  }
}

/**
 * Checks that `key` is a backup of this scope and reads its metadata. A backup without any
 * (bunqueue's oldest) cannot be verified: it is refused unless `allowUnverified`.
 */
async function openBackup(ctx: Context, key: string, allowUnverified: boolean, signal: AbortSignal): Promise<BackupMeta | undefined> {
  checkKey(key);
  const { prefix, name } = ctx.scope;
  if (key.endsWith(META_SUFFIX)) {
    throw new InvalidKeyError(key, `${key} is a metadata key; pass the backup's data key ${key.slice(0, -META_SUFFIX.length)}`);
  }
  if (!parseDataKey(prefix, name, key)) throw new InvalidKeyError(key, `${key} is not a backup of "${name}" under prefix "${prefix}"`);
  const meta = await readMeta(ctx.storage, metaKeyOf(key), signal);
  if (meta) return meta;
  const got = await ctx.storage.get(key, signal);
  if (!got) throw new NotFoundError(key);
  await got.body.cancel().catch(() => undefined);
  if (!allowUnverified) throw new UnverifiedBackupError(key);
  return undefined;
}

function readOpened(
  ctx: Context,
  key: string,
  meta: BackupMeta | undefined,
  operation: "restore" | "verify",
  signal: AbortSignal,
  sink?: ReadRequest["sink"],
): Promise<ReadResult> {
  const progress = progressReporter((bytesRead, bytesStored) =>
    ctx.emitter.emit("progress", { operation, key, bytesRead, bytesStored, totalBytes: meta?.size }),
  );
  return ctx.codec().then((codec) =>
    readBackup({ storage: ctx.storage, key, meta, codec, maxBytes: ctx.options.maxRestoreBytes, progress, signal, sink }),
  );
}

/** Where a restore writes: the caller's target, or the source's own for a location or none. */
function targetOf(ctx: Context, to: RestoreOptions["to"]): RestoreTarget {
  if (to !== undefined && typeof to !== "string") {
    if (typeof to?.begin !== "function") throw new ConfigError("to", "must be a location string or a RestoreTarget");
    return to;
  }
  if (typeof ctx.source.target !== "function") {
    throw new ConfigError("to", `source "${ctx.scope.name}" has no restore location of its own; pass { to: RestoreTarget }`);
  }
  return ctx.source.target(to);
}
