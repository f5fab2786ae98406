/**
 * `createBackupper`: the public object that ties a source, an adapter and a retention
 * policy together, serialises backups, runs the scheduler and keeps the status.
 */
import { writeBackup, type PipelineOptions } from "./backup.js";
import { describeBackup, readMeta, scan } from "./catalog.js";
import { mapLimit } from "./util/concurrency.js";
import {
  BackupInProgressError,
  ConfigError,
  InvalidKeyError,
  NotFoundError,
  UnverifiedBackupError,
  toAbortedError,
  toBackupError,
} from "./errors.js";
import { createEmitter, type BackupEvents, type Listener, type PruneReport } from "./events.js";
import { META_SUFFIX, isKeyOf, metaKeyOf, namePrefix, parseDataKey, type Scope } from "./format/keys.js";
import { resolveBackupperOptions, type BackupperOptions } from "./options.js";
import { getCodec } from "./codec/index.js";
import { progressReporter } from "./pipeline/progress.js";
import { readBackup, type ReadRequest, type ReadResult } from "./pipeline/read.js";
import { newestVerified, planRetention } from "./retention/policy.js";
import { createScheduler, type Scheduler } from "./scheduler.js";
import { guardStorage } from "./storage/guard.js";
import { checkKey as checkStorageKey } from "./storage/key.js";
import { anySignal } from "./util/streams.js";
import type { BackupInfo, BackupMeta, RestoreTarget } from "./types.js";

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
  compressedSize: number;
  checksum: string;
  durationMs: number;
  codec: "native" | "portable";
}

export interface BackupStatus {
  name: string;
  prefix: string;
  /** The scheduler is started. */
  enabled: boolean;
  running: boolean;
  interval: number;
  nextRun: Date | undefined;
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
  /** Starts the scheduler: first backup after `initialDelay`, then every `interval`. */
  start(opts?: { keepAlive?: boolean }): void;
  /** Stops the scheduler and waits for a running backup, or aborts it with `abort: true`. */
  stop(opts?: { abort?: boolean }): Promise<void>;
  on<E extends keyof BackupEvents>(event: E, listener: Listener<BackupEvents[E]>): () => void;
}

const META_READS_IN_FLIGHT = 8;

export function createBackupper(options: BackupperOptions): Backupper {
  const o = resolveBackupperOptions(options);
  const emitter = createEmitter(o.on);
  const storage = guardStorage(o.adapter);
  const scope: Scope = { prefix: o.prefix, name: o.name };
  const pipeline: PipelineOptions = { storage, ...scope, compression: o.compression, compressionLevel: o.compressionLevel, compressionWorkers: o.compressionWorkers, codec: o.codec, emitter };

  let running: { promise: Promise<BackupInfo>; controller: AbortController } | undefined;
  let lastSuccess: BackupStatus["lastSuccess"];
  let lastFailure: BackupStatus["lastFailure"];
  let count: number | undefined;
  let futureDated: number | undefined;
  let newest: BackupStatus["newestVerified"];

  function checkKey(key: string): void {
    checkStorageKey(key);
    if (key.endsWith(META_SUFFIX)) {
      throw new InvalidKeyError(key, `${key} is a metadata key; pass the backup's data key ${key.slice(0, -META_SUFFIX.length)}`);
    }
    if (!parseDataKey(o.prefix, o.name, key)) {
      throw new InvalidKeyError(key, `${key} is not a backup of "${o.name}" under prefix "${o.prefix}"`);
    }
  }

  async function list(signal?: AbortSignal): Promise<BackupInfo[]> {
    const { backups } = await scan(storage, scope, signal);
    const described = await mapLimit(backups, META_READS_IN_FLIGHT, (entry) => describeBackup(storage, scope, entry, signal));
    const infos = described.filter((info): info is BackupInfo => info !== undefined);
    count = infos.length;
    futureDated = infos.filter((b) => b.futureDated === true).length;
    const freshest = newestVerified(infos);
    newest = freshest && { key: freshest.key, timestamp: freshest.timestamp };
    return infos;
  }

  async function prune(dryRun: boolean, protect: ReadonlySet<string>, signal?: AbortSignal): Promise<PruneReport> {
    const { incomplete } = await scan(storage, scope, signal);
    const backups = await list(signal);
    const decisions = planRetention(backups, o.retention, protect);
    const deleted = decisions.filter((d) => !d.keep);
    const staleBefore = Date.now() - o.incompleteGrace;
    const stale = incomplete.filter((e) => e.age.getTime() < staleBefore).map((e) => e.key);
    let abandonedUploads: string[] = [];
    if (!dryRun) {
      const doomed = deleted.map((d) => d.key);
      // Metadata first: a backup interrupted here is merely incomplete, never a marker without data.
      await storage.delete([doomed.map(metaKeyOf), [...doomed, ...stale]], signal);
      count = backups.length - doomed.length;
      if (storage.capabilities.cleanupIncomplete) {
        abandonedUploads = await storage.cleanupIncomplete(namePrefix(o.prefix, o.name), new Date(staleBefore), {
          signal,
          match: (key) => isKeyOf(o.prefix, o.name, key),
        });
      }
    }
    const report: PruneReport = {
      dryRun,
      deleted: deleted.map((d) => ({ key: d.key, reason: d.reasons.join(", ") })),
      kept: decisions.filter((d) => d.keep).map((d) => ({ key: d.key, reasons: d.reasons })),
      incomplete: stale,
      abandonedUploads,
    };
    if (!dryRun) emitter.emit("pruned", report);
    return report;
  }

  function backup(signal: AbortSignal | undefined, scheduled: boolean): Promise<BackupInfo> {
    if (running) return Promise.reject(new BackupInProgressError());
    const controller = new AbortController();
    const combined = anySignal([signal, controller.signal]);
    const promise = (async () => {
      let key: string | undefined;
      const off = emitter.on("started", (e) => (key = e.key));
      try {
        const info = await writeBackup(pipeline, o.source, combined, scheduled);
        lastSuccess = { time: new Date(), key: info.key, size: info.size!, compressedSize: info.compressedSize, durationMs: info.durationMs! };
        emitter.emit("succeeded", info);
        try {
          await prune(false, new Set([info.key]), combined);
        } catch (error) {
          emitter.emit("failed", { operation: "prune", key: undefined, error: toBackupError(error, combined), scheduled });
        }
        return info;
      } catch (error) {
        const e = toBackupError(error, combined);
        lastFailure = { time: new Date(), code: e.code, message: e.message };
        emitter.emit("failed", { operation: "backup", key, error: e, scheduled });
        throw e;
      } finally {
        off();
        running = undefined;
      }
    })();
    running = { promise, controller };
    return promise;
  }

  let scheduler: Scheduler | undefined;

  function scheduledRun(): Promise<unknown> {
    if (running) {
      emitter.emit("skipped", { reason: "in-progress" });
      return Promise.resolve();
    }
    return backup(undefined, true);
  }

  function target(to: RestoreOptions["to"]): RestoreTarget {
    if (to !== undefined && typeof to !== "string") {
      if (typeof to?.begin !== "function") throw new ConfigError("to", "must be a location string or a RestoreTarget");
      return to;
    }
    if (typeof o.source.target !== "function") {
      throw new ConfigError("to", `source "${o.name}" has no restore location of its own; pass { to: RestoreTarget }`);
    }
    return o.source.target(to);
  }

  async function metaFor(key: string, allowUnverified: boolean, signal: AbortSignal): Promise<BackupMeta | undefined> {
    const meta = await readMeta(storage, metaKeyOf(key), signal);
    if (meta) return meta;
    const got = await storage.get(key, signal);
    if (!got) throw new NotFoundError(key);
    await got.body.cancel().catch(() => undefined);
    if (!allowUnverified) throw new UnverifiedBackupError(key);
    return undefined;
  }

  async function read(key: string, meta: BackupMeta | undefined, operation: "restore" | "verify", signal: AbortSignal, sink?: ReadRequest["sink"]): Promise<ReadResult> {
    const progress = progressReporter((bytesRead, bytesStored) =>
      emitter.emit("progress", { operation, key, bytesRead, bytesStored, totalBytes: meta?.size }),
    );
    return readBackup({ storage, key, meta, codec: await getCodec(o.codec), maxBytes: o.maxRestoreBytes, progress, signal, sink });
  }

  const self: Backupper = {
    name: o.name,
    prefix: o.prefix,
    backup: (opts = {}) => backup(opts.signal, false),
    list: (opts = {}) => list(opts.signal),

    async restore(key, opts = {}) {
      const started = Date.now();
      checkKey(key);
      const signal = opts.signal ?? new AbortController().signal;
      const to = target(opts.to);
      const meta = await metaFor(key, opts.allowUnverified === true, signal);
      const staging = await to.begin({ force: opts.force === true, signal, ...(meta ? { size: meta.size } : {}) });
      try {
        const result = await read(key, meta, "restore", signal, { target: to.description, write: (chunk) => staging.write(chunk) });
        if (signal.aborted) throw toAbortedError(signal.reason);
        await staging.commit();
        return {
          key,
          target: to.description,
          size: result.size,
          compressedSize: result.storedSize,
          checksum: result.checksum,
          verified: meta !== undefined,
          durationMs: Date.now() - started,
          codec: result.codec,
        };
      } catch (error) {
        await staging.abort();
        throw toBackupError(error, signal);
      }
    },

    async verify(key, opts = {}) {
      const started = Date.now();
      checkKey(key);
      const signal = opts.signal ?? new AbortController().signal;
      const meta = await metaFor(key, false, signal);
      const result = await read(key, meta, "verify", signal);
      return {
        key,
        size: result.size,
        compressedSize: result.storedSize,
        checksum: result.checksum,
        durationMs: Date.now() - started,
        codec: result.codec,
      };
    },

    prune: (opts = {}) => prune(opts.dryRun === true, new Set(), opts.signal),

    status() {
      return {
        name: o.name,
        prefix: o.prefix,
        enabled: scheduler?.enabled ?? false,
        running: running !== undefined,
        interval: o.interval,
        nextRun: scheduler?.nextRun,
        lastSuccess,
        lastFailure,
        backups: count,
        futureDated,
        newestVerified: newest,
      };
    },

    start(opts = {}) {
      if (scheduler?.enabled) return;
      scheduler = createScheduler({ initialDelay: o.initialDelay, interval: o.interval, keepAlive: opts.keepAlive === true, run: scheduledRun });
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

  return self;
}
