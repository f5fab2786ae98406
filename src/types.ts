/**
 * The contracts between the backupper core, storage adapters, sources and restore targets.
 * Only Web-platform types appear here, so the same contract holds on Node, Bun, Deno and Workers.
 */

export type Body = Uint8Array | ReadableStream<Uint8Array>;

export interface ListEntry {
  key: string;
  /** Stored size in bytes. */
  size: number;
  lastModified?: Date;
}

/**
 * A storage request failed and will be tried again after `waitMs`: what an adapter that retries
 * reports through `onRetry`, and what the backupper emits as its `retrying` event.
 */
export interface RetryNotice {
  /** The request, as the adapter names it: `put (part 3)`, `get (resume)`, `list`. */
  operation: string;
  key: string | undefined;
  /**
   * What failed: a network error's code (`ECONNREFUSED`, `ECONNRESET`, `TIMEOUT` for an attempt
   * that got no answer in time) or the storage's answer (`SlowDown`, `HTTP 503`).
   */
  code: string;
  /** The failure in a few words: `ECONNREFUSED 127.0.0.1:7480`, `503 SlowDown`. */
  reason: string;
  /** HTTP status of the storage's answer; undefined when none came (the storage is unreachable). */
  status: number | undefined;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** How long the adapter waits before the next attempt, in ms. */
  waitMs: number;
  /** How long the storage has been failing, in ms, as the adapter's retry budget counts it. */
  failingForMs: number;
}

/** What every adapter method takes. */
export interface RequestOptions {
  signal?: AbortSignal;
  /** Hears every retry the adapter makes (listener errors are the listener's: adapters call it as is). */
  onRetry?: (notice: RetryNotice) => void;
}

export type ListOptions = RequestOptions;

export interface PutOptions extends RequestOptions {
  contentType?: string;
  /**
   * Expected length of a stream body when the caller knows it in advance (a hint: adapters
   * may use it to size multipart parts; the body decides the stored length).
   */
  sizeHint?: number;
}

export type GetOptions = RequestOptions;

export type DeleteOptions = RequestOptions;

export interface CleanupOptions extends DeleteOptions {
  /**
   * Restricts the cleanup to interrupted puts of the keys it accepts. The core passes its key
   * grammar: sources whose names share a prefix (`queue`, `queue-archive`) share a listing
   * prefix, and one source's prune must never remove another's upload in progress.
   */
  match?: (key: string) => boolean;
}

export interface GetResult {
  body: ReadableStream<Uint8Array>;
  /** Stored size in bytes, when the adapter knows it before streaming. */
  size?: number;
  /** The object's version tag (S3: its ETag). Set by every adapter that has `putIf`, whose `ifMatch` compares against it. */
  etag?: string;
}

/** What `putIf` requires of the object at the key: that there is none, or that its etag is this one. */
export type PutCondition = { ifNoneMatch: "*" } | { ifMatch: string };

/** `written: false`: the condition did not hold and nothing was written. */
export type ConditionalPutResult = { written: true; etag: string } | { written: false };

/**
 * Where backups live. Implementations are plain objects made by a factory
 * (`memoryAdapter()`, `fsAdapter({ root })`, `s3Adapter({ … })`) or by users.
 *
 * Keys are opaque strings (`/`-separated, any Unicode, spaces, `+`, `&`). Every failure an
 * adapter cannot handle itself is thrown as an `AdapterError` (or subclass) naming the
 * operation and key, with the original error as `cause`. A missing bucket or directory root,
 * denied access and bad credentials are errors, never an empty listing or `null`.
 * An aborted signal rejects with an `AbortedError` and leaves nothing half-written.
 */
export interface StorageAdapter {
  /** Short name used in error messages, e.g. `"s3"`, `"fs"`, `"memory"`. */
  readonly name: string;

  /**
   * Yields every object whose key starts with `prefix` (a plain string prefix: `foo` matches
   * `foo/x` and `foobar`), across all pages, in no guaranteed order. An empty result is a
   * successful listing of nothing; a storage that cannot be listed throws.
   */
  list(prefix: string, opts?: ListOptions): AsyncIterable<ListEntry>;

  /**
   * Stores `body` under `key`, replacing an existing object. Atomic: readers see either the
   * previous object (or none) or the complete new one, never a partial object. If the body
   * stream errors, the signal aborts or the storage fails, it rejects and leaves no new
   * object behind (multipart uploads are aborted, temp files removed). `retainUntil` (ISO
   * time) says the object is write-once until then (S3 Object Lock) and cannot be deleted before.
   */
  put(key: string, body: Body, opts?: PutOptions): Promise<{ etag?: string; retainUntil?: string }>;

  /**
   * Opens `key` for streaming. Resolves `null` only when the key does not exist; any other
   * failure (including a missing bucket or denied access) rejects. Errors while streaming
   * (truncated or reset body) surface as an errored stream.
   */
  get(key: string, opts?: GetOptions): Promise<GetResult | null>;

  /** Deletes the keys. Missing keys are not an error; any key that could not be deleted is. */
  delete(keys: readonly string[], opts?: DeleteOptions): Promise<void>;

  /**
   * Optional: the conditional-put capability, which a lease needs (docs/FORMAT.md §6).
   * Writes the small `body` under `key` only if `condition` holds when it is written:
   * `{ ifNoneMatch: "*" }` when no object exists at `key`, `{ ifMatch: etag }` when the object
   * there has this `etag` (from `get` or an earlier `putIf`). Checking and writing are one atomic
   * step: of puts racing on one condition at most one is written, and a plain reader sees the
   * old object or the new one. Resolves `{ written: true, etag }` with the new object's etag, or
   * `{ written: false }` when the condition did not hold (S3: 412 PreconditionFailed, or 409
   * ConditionalRequestConflict while another conditional write is in flight); any other failure
   * rejects as `put` does. A request retried after a lost answer may report `written: false` for
   * a write that did happen: a caller that must know reads the object back. An adapter with
   * `putIf` sets `etag` on every `get` result.
   */
  putIf?(key: string, body: Uint8Array, condition: PutCondition, opts?: PutOptions): Promise<ConditionalPutResult>;

  /**
   * Optional. Removes the adapter's own leftovers of interrupted `put`s under `prefix` that
   * started before `olderThan` (S3: multipart uploads never completed or aborted; fs: temp
   * files of a killed process), limited to the keys `opts.match` accepts when given, and
   * returns a description of each. Never touches complete objects. Failures reject like `delete`.
   */
  cleanupIncomplete?(prefix: string, olderThan: Date, opts?: CleanupOptions): Promise<string[]>;

  /**
   * Optional. Set when every object is written under a retention lock (S3 Object Lock): the
   * storage is versioned, so a delete only hides an object behind a delete marker.
   */
  readonly objectLock?: { readonly mode: string; readonly retainDays: number };
}

/** A consistent, point-in-time view of a source, streamed once. */
export interface SourceSnapshot {
  stream: ReadableStream<Uint8Array>;
  /** Exact size in bytes when known before reading. */
  size?: number;
  /** The source file's permission bits (`0o600`), recorded in the metadata as `mode`. */
  mode?: number;
  /** Frees what the snapshot holds (temp files, handles); called once after success, failure or abort. */
  release?(): Promise<void>;
}

export interface RestoreBeginOptions {
  force: boolean;
  /** Original size in bytes the restore will write, when known. */
  size?: number;
  /** Permission bits the backed-up file had (metadata `mode`): a target that creates a new file gives it these. */
  mode?: number;
  signal?: AbortSignal;
}

/**
 * A staged write: bytes go to a scratch area (a temp file next to the target, a buffer),
 * and the target changes only in `commit()`, after the backupper has verified size and
 * SHA-256. Until then the target is byte-identical to before.
 */
export interface RestoreStaging {
  write(chunk: Uint8Array): void | Promise<void>;
  /** Makes the staged bytes the target, atomically (fsync + rename for files). Rejects, leaving the target as before, if it cannot. */
  commit(): Promise<void>;
  /** Discards the staged bytes. Never rejects. */
  abort(): Promise<void>;
}

export interface RestoreTarget {
  /** Human-readable location for messages (a path, `"memory"`). */
  readonly description: string;
  /** Starts a staged write. Rejects with `TargetExistsError` when the target exists and `force` is false. */
  begin(opts: RestoreBeginOptions): Promise<RestoreStaging>;
}

/** What is backed up, and where a restore goes by default. */
export interface Source {
  /** Default backup name (the `NAME` in `NAME-<timestamp>-<id>.db.gz`). */
  readonly name: string;
  /** Takes a snapshot to stream. Rejects with a `SourceError` when the source cannot be read. */
  snapshot(opts: { signal?: AbortSignal }): Promise<SourceSnapshot>;
  /** The restore target for `to` (a location such as a path), or the source's own location when `to` is undefined. */
  target?(to?: string): RestoreTarget;
  /**
   * Optional. A private scratch place for `drill()`: a restore target only this user can read
   * (a 0600 file in a 0700 temp directory), never the source itself, and the source's own checks
   * of what was restored there. Rejects (a `TargetError`) when the place cannot be made. Without
   * it a drill verifies the backup as `verify()` does, streamed and discarded.
   */
  drill?(opts: { signal?: AbortSignal }): Promise<DrillScratch>;
}

/** What one check of a drill found. */
export interface DrillCheck {
  /** `"verify"` (sizes and SHA-256s), `"header"`, `"integrity_check"`, `"query"`, or a source's own. */
  name: string;
  ok: boolean;
  /** What it found, for people: `"ok"`, the problems, the query and its result. */
  detail: string;
  /** The query's result (the first column of its first row), for a `"query"` check. */
  value?: string | number | null;
}

/** A drill's private restore target, its checks and its removal (see `Source.drill`). */
export interface DrillScratch {
  readonly target: RestoreTarget;
  /** Checks the restored copy. A failed check is a check with `ok: false`; rejects only when the checks cannot run at all. */
  check(signal?: AbortSignal): Promise<DrillCheck[]>;
  /** Removes the copy and its directory. Never rejects. */
  dispose(): Promise<void>;
}

/** The metadata object stored at `<data key>.meta.json` (docs/FORMAT.md §2). Unknown fields are kept. */
export interface BackupMeta {
  /** ISO-8601 time the backup started. */
  timestamp: string;
  /** Version of the writer (backupper or bunqueue). */
  version: string;
  /** Original (uncompressed) size in bytes. */
  size: number;
  /**
   * Stored size in bytes (absent in bunqueue's oldest format). The name is bunqueue's: it is the
   * size of the stored object also when nothing is compressed. Every `compressedSize` of this
   * library (`BackupInfo`, `RestoreResult`, `VerifyResult`, `BackupStatus.lastSuccess`) means the
   * same, as does `ProgressEvent.bytesStored`; inside the library the quantity is `storedSize`.
   */
  compressedSize?: number;
  /** SHA-256 hex of the original bytes; absent for an encrypted backup, whose metadata reveals nothing of them but `size`. */
  checksum?: string;
  /** Whether the stored bytes are compressed, gzip or zstd as `compression` says (absent in bunqueue's oldest format: raw). */
  compressed?: boolean;
  format?: string;
  name?: string;
  compression?: "gzip" | "zstd" | "none";
  /** `"age"` for an encrypted backup; absent when stored in the clear. */
  encryption?: "age";
  /** The source file's permission bits, octal (`"600"`), which a restore to a new path gives the file. */
  mode?: string;
  /** SHA-256 hex of the stored bytes. */
  storedChecksum?: string;
  /** ISO-8601 time until which the storage refuses to delete the data object (S3 Object Lock). */
  lockedUntil?: string;
  [field: string]: unknown;
}

/** One backup as listed, or as just written by `backup()`. */
export interface BackupInfo {
  key: string;
  metaKey: string;
  name: string;
  /** Time encoded in the key. */
  timestamp: Date;
  /** Original size in bytes (undefined for a backup without metadata). */
  size: number | undefined;
  /** Stored size in bytes (see `BackupMeta.compressedSize`). */
  compressedSize: number;
  /** SHA-256 hex of the original bytes (undefined for a backup without metadata, and for an encrypted one). */
  checksum: string | undefined;
  compressed: boolean | undefined;
  /** False for a backup without metadata (bunqueue's oldest): it can only be restored with `allowUnverified`. */
  verified: boolean;
  meta: BackupMeta | undefined;
  /** Why the metadata could not be used (unreadable or invalid); such a backup is not `verified`. */
  problem?: string;
  /**
   * Set by `list()`: the key is dated more than 5 minutes ahead of this clock (a wrong clock, or a
   * forged key). Retention keeps it without counting it, and freshness ignores it, until its date passes.
   */
  futureDated?: boolean;
  /** Present on the result of `backup()`. */
  durationMs?: number;
  /** The codec that compressed and hashed it, on the result of `backup()`: `"native"` (node:zlib/crypto) or `"portable"`. */
  codec?: "native" | "portable";
}
