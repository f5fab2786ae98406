/**
 * What a backupper remembers of its own runs, for `status()` and `metrics()`: the last backup
 * outcome of each kind, the last drill, the failures counted by operation and code, and what the
 * last listing saw. It is told each outcome before the event is emitted, so that a listener
 * reading the status sees the run it hears about.
 */
import type { BackupError } from "./errors.js";
import type { Scope } from "./format/keys.js";
import type { BackupOutcome } from "./operations/backup.js";
import type { DrillOutcome } from "./operations/drill.js";
import { newestVerified } from "./retention/policy.js";
import type { BackupInfo } from "./types.js";

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
  /** The last drill, passed or failed; `key` is undefined when it failed before one was picked. */
  lastDrill: { time: Date; key: string | undefined; ok: boolean; durationMs: number; error: { code: string; message: string } | undefined } | undefined;
  /** Failures since the backupper was created, by operation and error code. */
  failures: Array<{ operation: "backup" | "prune" | "drill"; code: string; count: number }>;
  /** Complete backups as of the last backup, list or prune; undefined before any. */
  backups: number | undefined;
  /** How many of them are dated in the future (`BackupInfo.futureDated`): kept, counted by neither retention nor freshness. */
  futureDated: number | undefined;
  /** The newest verified backup not dated in the future, as of the same listing: the one freshness is measured by. Undefined when there is none (or before any listing). */
  newestVerified: { key: string; timestamp: Date } | undefined;
}

/** What only the scheduler and the running backup know. */
type Live = Pick<BackupStatus, "enabled" | "running" | "interval" | "nextRun">;

export interface StatusBook {
  backupSettled(outcome: BackupOutcome): void;
  drillSettled(outcome: DrillOutcome): void;
  pruneFailed(error: BackupError): void;
  /** Records a listing of the backups (newest first) and returns it. */
  listed(backups: BackupInfo[]): BackupInfo[];
  status(live: Live): BackupStatus;
}

export function createStatusBook(scope: Scope): StatusBook {
  let lastSuccess: BackupStatus["lastSuccess"];
  let lastFailure: BackupStatus["lastFailure"];
  let lastDrill: BackupStatus["lastDrill"];
  let listing: Pick<BackupStatus, "backups" | "futureDated" | "newestVerified"> = { backups: undefined, futureDated: undefined, newestVerified: undefined };
  const failures = new Map<string, BackupStatus["failures"][number]>();
  const count = (operation: BackupStatus["failures"][number]["operation"], error: BackupError) => {
    const id = `${operation}\0${error.code}`;
    const entry = failures.get(id) ?? { operation, code: error.code, count: 0 };
    failures.set(id, { ...entry, count: entry.count + 1 });
  };

  return {
    backupSettled({ info, error }) {
      if (error) {
        lastFailure = { time: new Date(), code: error.code, message: error.message };
        count("backup", error);
      } else {
        lastSuccess = { time: new Date(), key: info.key, size: info.size!, compressedSize: info.compressedSize, durationMs: info.durationMs! };
      }
    },
    drillSettled({ key, ok, durationMs, error }) {
      lastDrill = { time: new Date(), key, ok, durationMs, error: error && { code: error.code, message: error.message } };
      if (error) count("drill", error);
    },
    pruneFailed: (error) => count("prune", error),
    listed(backups) {
      const newest = newestVerified(backups);
      listing = {
        backups: backups.length,
        futureDated: backups.filter((b) => b.futureDated === true).length,
        newestVerified: newest && { key: newest.key, timestamp: newest.timestamp },
      };
      return backups;
    },
    status: (live) => ({
      name: scope.name,
      prefix: scope.prefix,
      ...live,
      lastSuccess,
      lastFailure,
      lastDrill,
      failures: [...failures.values()],
      ...listing,
    }),
  };
}
