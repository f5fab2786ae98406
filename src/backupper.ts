/**
 * `createBackupper`: the public object. It holds the backup running and the scheduler; what the
 * runs left behind is kept by the status book (src/status.ts), drills by src/drills.ts, and the
 * work is done by the operations over one context (src/operations/, src/context.ts). Backups and
 * drills share one `Serial`, so they never overlap.
 */
import { createContext, type Context } from "./context.js";
import { BackupInProgressError, LeaseHeldError, toBackupError } from "./errors.js";
import type { BackupEvents, DrillResult, Listener, PruneReport } from "./events.js";
import { backup } from "./operations/backup.js";
import { listBackups } from "./operations/list.js";
import { prune } from "./operations/prune.js";
import { restore, verify, type RestoreOptions, type RestoreResult, type VerifyResult } from "./operations/restore.js";
import type { DrillOptions } from "./operations/drill.js";
import { createDrills } from "./drills.js";
import { prometheusText } from "./metrics/prometheus.js";
import type { BackupperOptions } from "./options.js";
import { createScheduler, type Scheduler } from "./scheduler.js";
import { createStatusBook, type BackupStatus } from "./status.js";
import type { BackupInfo } from "./types.js";
import { createSerial } from "./util/concurrency.js";
import { anySignal } from "./util/streams.js";

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
  /**
   * Restores a backup (`key`, else the newest verified one, or a random one with `pick: "random"`)
   * into the source's private scratch place and checks it there, then removes the copy. Resolves
   * `ok: false` with the typed `error` when the backup is bad; rejects when no verdict could be
   * reached (no such backup, storage failure, abort). Waits for a running backup; never touches the source.
   */
  drill(opts?: DrillOptions): Promise<DrillResult>;
  /** The status in Prometheus text exposition format 0.0.4 (`PROMETHEUS_CONTENT_TYPE`). */
  metrics(): string;
  /** Starts the scheduler: first backup after `initialDelay`, then every `interval`; a failed one is retried before the next (`retryFailed`); drills every `drillInterval` when set. */
  start(opts?: { keepAlive?: boolean }): void;
  /** Stops the scheduler and waits for a running backup or drill, or aborts them with `abort: true`. */
  stop(opts?: { abort?: boolean }): Promise<void>;
  on<E extends keyof BackupEvents>(event: E, listener: Listener<BackupEvents[E]>): () => void;
}

/** When scheduled backups run; a failed one is retried after 1, 2, 4 … minutes (`retryFailed`). */
function scheduleOf({ initialDelay, interval, retryFailed }: Context["options"]) {
  return { initialDelay, interval, retry: retryFailed ? { initialDelay: 60_000 } : undefined };
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
  const book = createStatusBook(scope);
  const serial = createSerial();
  const drills = createDrills(ctx, book, serial);

  function runBackup(signal: AbortSignal | undefined, scheduled: boolean): Promise<BackupInfo> {
    if (running) return Promise.reject(new BackupInProgressError());
    const controller = new AbortController();
    const combined = anySignal([signal, controller.signal]);
    const promise = serial.run(async () => {
      try {
        const info = await backup(ctx, { signal: combined, scheduled, settled: book.backupSettled });
        await prune(ctx, { dryRun: false, protect: new Set([info.key]), signal: combined }).then(
          ({ remaining }) => book.listed(remaining),
          (error: unknown) => {
            const failure = toBackupError(error, combined);
            book.pruneFailed(failure);
            emitter.emit("failed", { operation: "prune", key: undefined, error: failure, scheduled });
          },
        );
        return info;
      } finally {
        running = undefined;
      }
    });
    running = { promise, controller };
    return promise;
  }

  const status = () =>
    book.status({ enabled: scheduler?.enabled ?? false, running: running !== undefined, interval: ctx.options.interval, nextRun: scheduler?.nextRun });
  return {
    name: scope.name,
    prefix: scope.prefix,
    backup: (opts = {}) => runBackup(opts.signal, false),
    list: (opts = {}) => typed(opts.signal, async () => book.listed(await listBackups(ctx, opts.signal))),
    restore: (key, opts = {}) => typed(opts.signal, () => restore(ctx, key, opts)),
    verify: (key, opts = {}) => typed(opts.signal, () => verify(ctx, key, opts.signal)),
    prune: (opts = {}) =>
      typed(opts.signal, async () => {
        const { report, remaining } = await prune(ctx, { dryRun: opts.dryRun === true, protect: new Set(), signal: opts.signal });
        book.listed(remaining);
        return report;
      }),
    status,
    drill: (opts = {}) => drills.run(opts, false),
    metrics: () => prometheusText(status(), ctx.options.retention),
    start(opts = {}) {
      if (scheduler?.enabled) return;
      // A run that finds a backup running, in this process or (the lease held) in another, did what
      // it should: it is skipped, not a failure to retry. Every other rejection, a lost lease included, is one.
      const skipIfLeaseHeld = (error: unknown) => {
        if (!(error instanceof LeaseHeldError) || error.lost) throw error;
        emitter.emit("skipped", { reason: "lease-held", error });
      };
      const run = async () => {
        if (running) emitter.emit("skipped", { reason: "in-progress" });
        else await runBackup(undefined, true).catch(skipIfLeaseHeld);
      };
      scheduler = createScheduler({ ...scheduleOf(ctx.options), keepAlive: opts.keepAlive === true, run });
      scheduler.start();
      drills.start(opts.keepAlive === true);
    },
    async stop(opts = {}) {
      const current = running;
      if (opts.abort) current?.controller.abort(new Error("backupper stopped"));
      await Promise.all([scheduler?.stop(), drills.stop(opts.abort === true)]);
      await current?.promise.catch(() => undefined);
    },
    on: (event, listener) => emitter.on(event, listener),
  };
}
