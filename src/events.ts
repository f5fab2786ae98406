/**
 * A minimal typed emitter. Listener errors are swallowed on purpose: a broken log or
 * metrics hook must never fail or stall a backup.
 */
import type { BackupError, LeaseHeldError } from "./errors.js";
import type { BackupInfo, DrillCheck, RetryNotice } from "./types.js";

export interface ProgressEvent {
  operation: "backup" | "restore" | "verify";
  key: string;
  /** Original bytes read from the source (backup) or produced by decompression (restore). */
  bytesRead: number;
  /** Stored bytes written to (backup) or read from (restore) the adapter. */
  bytesStored: number;
  /** Original size when known in advance. */
  totalBytes: number | undefined;
}

export interface PruneReport {
  dryRun: boolean;
  /** Backups (data keys) removed, or that would be, with the reason. */
  deleted: Array<{ key: string; reason: string }>;
  /** Backups kept, with the rules that kept them. */
  kept: Array<{ key: string; reasons: string[] }>;
  /** Incomplete objects (data without metadata, metadata without data) removed after the grace period. */
  incomplete: string[];
  /**
   * Adapter leftovers of interrupted uploads (e.g. S3 multipart uploads) removed after the grace
   * period; empty on a dry run. MinIO lists uploads only for an exact key, never by prefix, so
   * there this stays empty: a lifecycle rule aborting incomplete uploads is what removes them.
   */
  abandonedUploads: string[];
  /** What the storage does beyond this report (a versioned bucket keeps what a delete hides). */
  notes?: string[];
}

export interface DrillResult {
  key: string;
  /** Every check passed. */
  ok: boolean;
  durationMs: number;
  /** Original bytes restored; undefined when the drill failed before they were all read. */
  size: number | undefined;
  checks: DrillCheck[];
  /** Why the drill failed, when `ok` is false: the typed error of the failed check. */
  error?: BackupError;
}

export interface BackupEvents {
  started: { operation: "backup"; key: string; name: string; scheduled: boolean };
  progress: ProgressEvent;
  succeeded: BackupInfo;
  /** `drill`: a drill that found the backup bad (`key` set, as in `DrillResult.error`) or could not run. */
  failed: { operation: "backup" | "prune" | "drill"; key: string | undefined; error: BackupError; scheduled: boolean };
  pruned: PruneReport;
  /** A drill passed every check. */
  drilled: DrillResult;
  /**
   * The storage failed and the adapter waits `waitMs` before trying again (S3: network errors,
   * 5xx, 429, throttling, until its `retryFor` is spent), during any operation.
   */
  retrying: RetryNotice;
  /**
   * A scheduled run did nothing: a backup of this backupper was already running (`"in-progress"`),
   * or another process holds the source's lease (`"lease-held"`, with the holder's `LeaseHeldError`).
   * Neither counts as a failure.
   */
  skipped: { reason: "in-progress" } | { reason: "lease-held"; error: LeaseHeldError };
}

export type Listener<T> = (event: T) => void;
export type BackupHooks = { [E in keyof BackupEvents]?: Listener<BackupEvents[E]> };

export interface Emitter {
  on<E extends keyof BackupEvents>(event: E, listener: Listener<BackupEvents[E]>): () => void;
  emit<E extends keyof BackupEvents>(event: E, payload: BackupEvents[E]): void;
}

export function createEmitter(hooks: BackupHooks = {}): Emitter {
  type AnyListener = Listener<BackupEvents[keyof BackupEvents]>;
  const listeners = new Map<keyof BackupEvents, Set<AnyListener>>();
  const on: Emitter["on"] = (event, listener) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener as AnyListener);
    return () => void set.delete(listener as AnyListener);
  };
  for (const [event, listener] of Object.entries(hooks)) {
    if (typeof listener === "function") on(event as keyof BackupEvents, listener as AnyListener);
  }
  return {
    on,
    emit(event, payload) {
      for (const listener of listeners.get(event) ?? []) {
        try {
          listener(payload);
        } catch {
          // See the module comment: hooks cannot break the operation.
        }
      }
    },
  };
}
