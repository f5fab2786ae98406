/**
 * `createBackupper`: the public object. It holds the state (the backup running, the last
 * outcome, what the last listing saw) and the scheduler; the work is done by the operations
 * over one context (src/operations/, src/context.ts).
 */
import { createContext, type Context } from "./context.js";
import { BackupInProgressError, toBackupError } from "./errors.js";
import type { BackupEvents, Listener, PruneReport } from "./events.js";
import { backup, type BackupOutcome } from "./operations/backup.js";
import { listBackups } from "./operations/list.js";
import { prune } from "./operations/prune.js";
import { restore, verify, type RestoreOptions, type RestoreResult, type VerifyResult } from "./operations/restore.js";
import type { BackupperOptions } from "./options.js";
import { newestVerified } from "./retention/policy.js";
import { createScheduler, type Scheduler } from "./scheduler.js";
import type { BackupInfo } from "./types.js";
import { anySignal } from "./util/streams.js";

export interface BackupStatus {
  name: string;
  prefix: string;
  /** The scheduler is started. */
  enabled: boolean;
  running: boolean;
  interval: number;
  nextRun: Date | undefined;
  /** `compressedSize`: the stored size (see `BackupMeta.compressedSize`). */
  lastSuccess: { time: Date; key: string; size: number; compressedSize: number; durationMs: number } | undefined;
  lastFailure: { time: Date; code: string; message: string } | undefined;
  /** Complete backups as of the last backup, list or prune; undefined before any. */
  backups: number | undefined;
  /** How many of them are dated in the future (`BackupInfo.futureDated`): kept, counted by neither retention nor freshness. */
  futureDated: number | undefined;
  /** The newest verified backup not dated in the future, as of the same listing: the one freshness is measured by. Undefined when there is none (or before any listing). */
  newestVerified: { key: string; timestamp: Date } | undefined;
}

export interface Backupper {
  readonly name: string;
  readonly prefix: string;
  /** Takes a backup now, then applies retention. Rejects with `BackupInProgressError` if one is running. */
  backup(opts?: { signal?: AbortSignal }): Promise<BackupInfo>;
  /** Complete backups of this source, newest first. */
  list(opts?: { signal?: AbortSignal }): Promise<BackupInfo[]>;
  /** Downloads, verifies and only then atomically replaces the target. */
  restore(key: string, opts?: RestoreOptions): Promise<RestoreResult>;
  /** Downloads and verifies a backup without writing anything. */
  verify(key: string, opts?: { signal?: AbortSignal }): Promise<VerifyResult>;
  /** Applies retention and removes stale incomplete objects; `dryRun` only reports. */
  prune(opts?: { dryRun?: boolean; signal?: AbortSignal }): Promise<PruneReport>;
  status(): BackupStatus;
  /** Starts the scheduler: first backup after `initialDelay`, then every `interval`; a failed one is retried before the next (`retryFailed`). */
  start(opts?: { keepAlive?: boolean }): void;
  /** Stops the scheduler and waits for a running backup, or aborts it with `abort: true`. */
  stop(opts?: { abort?: boolean }): Promise<void>;
  on<E extends keyof BackupEvents>(event: E, listener: Listener<BackupEvents[E]>): () => void;
}

/** When scheduled backups run; a failed one is retried after 1, 2, 4 … minutes (`retryFailed`). */
function scheduleOf({ initialDelay, interval, retryFailed }: Context["options"]) {
  return { initialDelay, interval, retry: retryFailed ? { initialDelay: 60_000 } : undefined };
}

type Listing = Pick<BackupStatus, "backups" | "futureDated" | "newestVerified">;

/** What the status says about a listing of `backups`, newest first. */
function summarize(backups: readonly BackupInfo[]): Listing {
  const newest = newestVerified(backups);
  return {
    backups: backups.length,
    futureDated: backups.filter((b) => b.futureDated === true).length,
    newestVerified: newest && { key: newest.key, timestamp: newest.timestamp },
  };
}

/** Every rejection of the public object is a `BackupError`. */
async function typed<T>(signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toBackupError(error, signal);
  }
}

export function createBackupper(options: BackupperOptions): Backupper {
  const ctx = createContext(options);
  const { scope, emitter } = ctx;
  let running: { promise: Promise<BackupInfo>; controller: AbortController } | undefined;
  let scheduler: Scheduler | undefined;
  let lastSuccess: BackupStatus["lastSuccess"];
  let lastFailure: BackupStatus["lastFailure"];
  let listing: Listing = { backups: undefined, futureDated: undefined, newestVerified: undefined };
  const listed = (backups: BackupInfo[]) => {
    listing = summarize(backups);
    return backups;
  };

  const settled = ({ info, error }: BackupOutcome) => {
    if (error) lastFailure = { time: new Date(), code: error.code, message: error.message };
    else lastSuccess = { time: new Date(), key: info.key, size: info.size!, compressedSize: info.compressedSize, durationMs: info.durationMs! };
  };

  function runBackup(signal: AbortSignal | undefined, scheduled: boolean): Promise<BackupInfo> {
    if (running) return Promise.reject(new BackupInProgressError());
    const controller = new AbortController();
    const combined = anySignal([signal, controller.signal]);
    const promise = (async () => {
      try {
        const info = await backup(ctx, { signal: combined, scheduled, settled });
        await prune(ctx, { dryRun: false, protect: new Set([info.key]), signal: combined }).then(
          ({ remaining }) => listed(remaining),
          (error: unknown) => emitter.emit("failed", { operation: "prune", key: undefined, error: toBackupError(error, combined), scheduled }),
        );
        return info;
      } finally {
        running = undefined;
      }
    })();
    running = { promise, controller };
    return promise;
  }

  return {
    name: scope.name,
    prefix: scope.prefix,
    backup: (opts = {}) => runBackup(opts.signal, false),
    list: (opts = {}) => typed(opts.signal, async () => listed(await listBackups(ctx, opts.signal))),
    restore: (key, opts = {}) => typed(opts.signal, () => restore(ctx, key, opts)),
    verify: (key, opts = {}) => typed(opts.signal, () => verify(ctx, key, opts.signal)),
    prune: (opts = {}) =>
      typed(opts.signal, async () => {
        const { report, remaining } = await prune(ctx, { dryRun: opts.dryRun === true, protect: new Set(), signal: opts.signal });
        listed(remaining);
        return report;
      }),
    status: () => ({
      name: scope.name,
      prefix: scope.prefix,
      enabled: scheduler?.enabled ?? false,
      running: running !== undefined,
      interval: ctx.options.interval,
      nextRun: scheduler?.nextRun,
      lastSuccess,
      lastFailure,
      ...listing,
    }),
    start(opts = {}) {
      if (scheduler?.enabled) return;
      const run = async () => {
        if (running) emitter.emit("skipped", { reason: "in-progress" });
        else await runBackup(undefined, true);
      };
      scheduler = createScheduler({ ...scheduleOf(ctx.options), keepAlive: opts.keepAlive === true, run });
      scheduler.start();
    },
    async stop(opts = {}) {
      const current = running;
      if (opts.abort) current?.controller.abort(new Error("backupper stopped"));
      await scheduler?.stop();
      await current?.promise.catch(() => undefined);
    },
    on: (event, listener) => emitter.on(event, listener),
  };
}
