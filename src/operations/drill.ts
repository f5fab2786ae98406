/**
 * `drill()`: a restore test. One backup is downloaded, verified end to end, restored into the
 * source's private scratch place (never the source itself) and checked there the way the source
 * knows how (SQLite: header, `PRAGMA integrity_check`, an optional query), then the scratch copy
 * is removed, whatever happened.
 *
 * Two ways to fail, kept apart on purpose: a drill that reached a verdict on the backup (its
 * bytes or its content are bad: the codes the CLI reports as exit 4) resolves `ok: false` with
 * that typed error; a drill that could not reach one (no such backup, storage unreachable,
 * aborted, no scratch space) rejects. Both are a `failed` event with `operation: "drill"`.
 */
import type { Context } from "../context.js";
import { BackupError, ConfigError, CorruptDataError, NotFoundError, throwIfAborted, toBackupError, type BackupErrorCode } from "../errors.js";
import { newestVerified } from "../retention/policy.js";
import type { DrillResult } from "../events.js";
import type { BackupInfo, DrillCheck } from "../types.js";
import { listBackups } from "./list.js";
import { restore, verify } from "./restore.js";

export interface DrillOptions {
  /** The backup to drill. Default: chosen by `pick`. */
  key?: string;
  /** Which backup when no `key`: the newest verified one (default), or one at random among the verified ones; keys dated in the future never. */
  pick?: "latest" | "random";
  signal?: AbortSignal;
}

/** What the status keeps of a drill, passed or failed (rejected ones too: `key` is undefined when none was picked). */
export interface DrillOutcome {
  key: string | undefined;
  ok: boolean;
  durationMs: number;
  error: BackupError | undefined;
}

export interface DrillRequest extends DrillOptions {
  signal: AbortSignal;
  scheduled: boolean;
  /** Hears the outcome just before `drilled` or `failed` is emitted, so that a listener reading the status sees it. */
  settled(outcome: DrillOutcome): void;
  /** Hears the listing a drill without a key picked from. */
  listed(backups: BackupInfo[]): void;
}

/** The codes that are a verdict on the backup rather than a failure to reach one. */
const VERDICTS: ReadonlySet<BackupErrorCode> = new Set(["CHECKSUM_MISMATCH", "CORRUPT_DATA", "INVALID_METADATA", "UNVERIFIED", "DECRYPT"]);

export async function drill(ctx: Context, req: DrillRequest): Promise<DrillResult> {
  const started = Date.now();
  const { signal } = req;
  let key = req.key;
  try {
    if (key === undefined) {
      const backups = await listBackups(ctx, signal);
      req.listed(backups);
      key = pickKey(ctx, backups, req.pick ?? "latest");
    }
    const { size, checks, error } = await restoreAndCheck(ctx, key, signal);
    // A check cut short by an abort found nothing about the backup.
    throwIfAborted(signal);
    const failed = checks.find((c) => !c.ok);
    const result: DrillResult = { key, ok: failed === undefined, durationMs: Date.now() - started, size, checks };
    if (failed) result.error = error ?? new CorruptDataError(key, `drill check ${failed.name} failed: ${failed.detail}`);
    req.settled({ key, ok: result.ok, durationMs: result.durationMs, error: result.error });
    if (result.error) ctx.emitter.emit("failed", { operation: "drill", key, error: result.error, scheduled: req.scheduled });
    else ctx.emitter.emit("drilled", result);
    return result;
  } catch (error) {
    const failure = toBackupError(error, signal);
    req.settled({ key, ok: false, durationMs: Date.now() - started, error: failure });
    ctx.emitter.emit("failed", { operation: "drill", key, error: failure, scheduled: req.scheduled });
    throw failure;
  }
}

interface Checked {
  size: number | undefined;
  checks: DrillCheck[];
  /** The restore's own typed error when the verify step failed. */
  error?: BackupError;
}

/** Restores `key` into the source's scratch place and runs its checks there; without one, verifies it. */
async function restoreAndCheck(ctx: Context, key: string, signal: AbortSignal): Promise<Checked> {
  const scratch = await ctx.source.drill?.({ signal });
  try {
    let read: { size: number; checksum: string };
    try {
      read = scratch ? await restore(ctx, key, { to: scratch.target, force: true, signal }) : await verify(ctx, key, signal);
    } catch (error) {
      if (!BackupError.is(error) || !VERDICTS.has(error.code) || signal.aborted) throw error;
      return { size: undefined, checks: [{ name: "verify", ok: false, detail: error.message }], error };
    }
    const verified: DrillCheck = { name: "verify", ok: true, detail: `${read.size} bytes, sha256 ${read.checksum}` };
    return { size: read.size, checks: [verified, ...((await scratch?.check(signal)) ?? [])] };
  } finally {
    await scratch?.dispose();
  }
}

/** A mistake in the call is the caller's, not the backup's: it rejects before any drill (and without waiting for one), with no event. */
export function checkDrillOptions({ key, pick }: DrillOptions): void {
  if (pick !== undefined && pick !== "latest" && pick !== "random") throw new ConfigError("pick", `must be "latest" or "random", got ${JSON.stringify(pick)}`);
  if (key !== undefined && typeof key !== "string") throw new ConfigError("key", "must be the data key of a backup");
  if (key !== undefined && pick !== undefined) throw new ConfigError("pick", "give a key or a pick, not both");
}

/** A verified backup not dated in the future: the newest, or any one of them. */
function pickKey(ctx: Context, backups: readonly BackupInfo[], pick: "latest" | "random"): string {
  const candidates = backups.filter((b) => b.verified && b.futureDated !== true);
  const chosen = pick === "latest" ? newestVerified(backups) : candidates[Math.floor(Math.random() * candidates.length)];
  if (!chosen) {
    const { prefix, name } = ctx.scope;
    throw new NotFoundError(`${prefix}${name}`, `no verified backup of "${name}" under prefix "${prefix}" to drill`);
  }
  return chosen.key;
}
