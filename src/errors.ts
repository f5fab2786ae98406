/**
 * One error family: every error this library throws on purpose is a `BackupError`
 * with a stable `code`, so callers can branch on `err.code` without parsing messages,
 * and the underlying failure stays reachable through `cause`.
 */

export type BackupErrorCode =
  | "CONFIG"
  | "IN_PROGRESS"
  | "LEASE_HELD"
  | "NOT_FOUND"
  | "INVALID_KEY"
  | "TARGET_EXISTS"
  | "CHECKSUM_MISMATCH"
  | "CORRUPT_DATA"
  | "INVALID_METADATA"
  | "UNVERIFIED"
  | "DECRYPT"
  | "SOURCE"
  | "TARGET"
  | "ADAPTER"
  | "ABORTED"
  | "INTERNAL";

/**
 * Marks instances across copies of the library (ESM and CJS builds loaded side by side, two
 * versions in one tree), where `instanceof` fails. A registered symbol, so every copy sees the
 * same one, and no foreign error passes merely by carrying a `code` that looks like ours.
 */
const BRAND = Symbol.for("backupper.BackupError");

export class BackupError extends Error {
  // Literal names survive minification, which would rename `new.target.name`.
  override name = "BackupError";
  readonly code: BackupErrorCode;

  constructor(code: BackupErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any `BackupError` (from this or another copy of the library), optionally of one code. */
  static is(value: unknown, code?: BackupErrorCode): value is BackupError {
    if (!(value instanceof BackupError) && (value as { [BRAND]?: unknown } | null)?.[BRAND] !== true) return false;
    return code === undefined || (value as BackupError).code === code;
  }
}

/** An option or environment value is missing or invalid; `option` names it. */
export class ConfigError extends BackupError {
  override name = "ConfigError";
  readonly option: string;
  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super("CONFIG", `${option}: ${message}`, options);
    this.option = option;
  }
}

/** A backup was requested while another one of the same backupper was running. */
export class BackupInProgressError extends BackupError {
  override name = "BackupInProgressError";
  constructor(message = "a backup is already running") {
    super("IN_PROGRESS", message);
  }
}

/**
 * Another process holds the source's lease (`lease` option), so this one did not back up; or,
 * with `lost`, this backup's lease was taken over or could not be renewed before it expired,
 * and the backup was abandoned before its commit marker. `holder` is what the lease object
 * says of whoever holds it (no secret is ever in it), when it could be read.
 */
export class LeaseHeldError extends BackupError {
  override name = "LeaseHeldError";
  readonly key: string;
  readonly lost: boolean;
  readonly holder: { host?: string; pid?: number; expires: string } | undefined;
  constructor(key: string, message: string, details: { lost: boolean; holder?: LeaseHeldError["holder"]; cause?: unknown }) {
    super("LEASE_HELD", message, { cause: details.cause });
    this.key = key;
    this.lost = details.lost;
    this.holder = details.holder;
  }
}

/** The backup (or its data object) does not exist. */
export class NotFoundError extends BackupError {
  override name = "NotFoundError";
  readonly key: string;
  constructor(key: string, message = `backup not found: ${key}`) {
    super("NOT_FOUND", message);
    this.key = key;
  }
}

/** A key that does not belong to this backupper (other prefix, other source, or not a backup key). */
export class InvalidKeyError extends BackupError {
  override name = "InvalidKeyError";
  readonly key: string;
  constructor(key: string, message: string) {
    super("INVALID_KEY", message);
    this.key = key;
  }
}

/** The restore target exists and `force` was not given. */
export class TargetExistsError extends BackupError {
  override name = "TargetExistsError";
  readonly target: string;
  constructor(target: string) {
    super("TARGET_EXISTS", `restore target exists: ${target} (pass force to replace it)`);
    this.target = target;
  }
}

/** A SHA-256 did not match the one recorded in the metadata. */
export class ChecksumMismatchError extends BackupError {
  override name = "ChecksumMismatchError";
  readonly key: string;
  /** `original`: the decompressed bytes; `stored`: the bytes as stored in the bucket. */
  readonly which: "original" | "stored";
  readonly expected: string;
  readonly actual: string;
  constructor(key: string, which: "original" | "stored", expected: string, actual: string) {
    super("CHECKSUM_MISMATCH", `${which} SHA-256 of ${key} is ${actual}, metadata says ${expected}`);
    this.key = key;
    this.which = which;
    this.expected = expected;
    this.actual = actual;
  }
}

/** Stored bytes are unreadable or disagree with the metadata: bad gzip, truncation, wrong size, output too large. */
export class CorruptDataError extends BackupError {
  override name = "CorruptDataError";
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super("CORRUPT_DATA", `${key}: ${message}`, options);
    this.key = key;
  }
}

/** A backup without metadata decompressed past its cap: `CORRUPT_DATA` that carries the cap, so a caller can say how to raise it. */
export class RestoreCapError extends CorruptDataError {
  override name = "RestoreCapError";
  readonly cap: number;
  /** `from`: what set the cap. */
  constructor(key: string, cap: number, from: string) {
    super(key, `decompressed data exceeds the ${cap}-byte cap for a backup without metadata (${from}), refusing a possible decompression bomb; if it is genuine, raise maxRestoreBytes`);
    this.cap = cap;
  }
}

/** A metadata object is not valid JSON or has a missing or wrong-typed field. */
export class InvalidMetadataError extends BackupError {
  override name = "InvalidMetadataError";
  readonly key: string;
  readonly field: string | undefined;
  constructor(key: string, message: string, field?: string, options?: { cause?: unknown }) {
    super("INVALID_METADATA", `${key}: ${message}`, options);
    this.key = key;
    this.field = field;
  }
}

/** The backup has no checksum to verify against; restoring it needs `allowUnverified`. */
export class UnverifiedBackupError extends BackupError {
  override name = "UnverifiedBackupError";
  readonly key: string;
  constructor(key: string) {
    super("UNVERIFIED", `${key} has no metadata, so it cannot be verified (pass allowUnverified to restore it anyway)`);
    this.key = key;
  }
}

/**
 * An encrypted backup could not be decrypted with the configured keys: none configured
 * (`"no-key"`), or none of them opens it (`"wrong-identity"` for a backup encrypted to
 * recipients, `"wrong-passphrase"` for one encrypted with a passphrase). Names no secret.
 */
export class DecryptionError extends BackupError {
  override name = "DecryptionError";
  readonly key: string;
  readonly reason: "no-key" | "wrong-identity" | "wrong-passphrase";
  constructor(key: string, reason: DecryptionError["reason"], options?: { cause?: unknown }) {
    super("DECRYPT", `${key}: ${DECRYPTION_PROBLEMS[reason]}`, options);
    this.key = key;
    this.reason = reason;
  }
}

const DECRYPTION_PROBLEMS: Record<DecryptionError["reason"], string> = {
  "no-key": "the backup is encrypted (age) and no key is configured to decrypt it; pass encryption.identities or encryption.passphrase (CLI: --identity FILE, BACKUP_AGE_IDENTITY_FILE, BACKUP_PASSPHRASE)",
  "wrong-identity": "the backup is encrypted to age recipients and no configured identity is one of them (or its header is damaged: compare `sha256sum` of the object with `storedChecksum`)",
  "wrong-passphrase": "the backup is encrypted with a passphrase and no configured passphrase opens it",
};

/** Reading the source failed (or, as the subclass `TargetError`, writing the restore target). */
export class SourceError extends BackupError {
  override name = "SourceError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("SOURCE", message, options);
  }
}

/**
 * The restore target could not be staged, written or replaced; the target is as it was. A
 * subclass of `SourceError` because that is what these failures were before the `TARGET` code
 * existed: a caller that catches `SourceError` around a restore still catches them.
 */
export class TargetError extends SourceError {
  override name = "TargetError";
  override readonly code: BackupErrorCode = "TARGET";
  readonly target: string;
  constructor(target: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.target = target;
  }
}

/** A failure the library did not expect and could not classify: a bug, or a broken runtime. The original is the `cause`. */
export class InternalError extends BackupError {
  override name = "InternalError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("INTERNAL", message, options);
  }
}

/**
 * A storage adapter failed. Adapters wrap their own failures in this class (or a
 * subclass such as the S3 adapter's `S3Error`) naming the adapter, the operation and the key.
 */
export class AdapterError extends BackupError {
  override name = "AdapterError";
  readonly adapter: string;
  readonly operation: string;
  readonly key: string | undefined;
  constructor(
    adapter: string,
    operation: string,
    message: string,
    options?: { key?: string; cause?: unknown },
  ) {
    super("ADAPTER", `[${adapter}] ${operation}${options?.key === undefined ? "" : ` ${options.key}`}: ${message}`, options);
    this.adapter = adapter;
    this.operation = operation;
    this.key = options?.key;
  }
}

/** The operation was cancelled through its `AbortSignal` or by `stop()`. */
export class AbortedError extends BackupError {
  override name = "AbortedError";
  constructor(message = "operation aborted", options?: { cause?: unknown }) {
    super("ABORTED", message, options);
  }
}

/** The message of anything thrown: an error's own (from any realm), else its string form. */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" ? message : String(error);
}

/** Throws `toAbortedError` of the signal's reason when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw toAbortedError(signal.reason);
}

/**
 * What an abort with `reason` rejects with: an `AbortedError` wrapping it, unless it is one of the
 * library's own errors, which says more than "aborted" (a lost lease aborts with its `LeaseHeldError`).
 */
export function toAbortedError(reason: unknown): BackupError {
  if (BackupError.is(reason)) return reason;
  return new AbortedError(reason instanceof Error ? `operation aborted: ${reason.message}` : "operation aborted", {
    cause: reason,
  });
}

/**
 * What an operation rejects with: an abort of `signal` is `toAbortedError` of its reason whatever
 * it broke on the way, the library's own errors pass through, and anything else is a failure nobody
 * classified, an `InternalError` (never mislabelled as a source or storage failure).
 */
export function toBackupError(error: unknown, signal?: AbortSignal): BackupError {
  if (signal?.aborted) return toAbortedError(signal.reason);
  if (BackupError.is(error)) return error;
  return new InternalError(messageOf(error), { cause: error });
}

/**
 * The one normalisation of a storage failure, used by the core's storage guard and by adapters
 * for their own failures: the library's errors pass through (an `AbortedError` stays an abort,
 * an `InvalidKeyError` stays one), a failure after `signal` aborted is an `AbortedError`, and
 * anything else becomes an `AdapterError` naming the adapter, operation and key.
 */
export function toAdapterError(error: unknown, adapter: string, operation: string, key?: string, signal?: AbortSignal): BackupError {
  if (BackupError.is(error)) return error;
  if (signal?.aborted) return toAbortedError(signal.reason);
  return new AdapterError(adapter, operation, messageOf(error), { key, cause: error });
}

/** A source failure described by `what`; the library's own errors pass through. */
export function toSourceError(error: unknown, what: string): BackupError {
  return BackupError.is(error) ? error : new SourceError(`${what}: ${messageOf(error)}`, { cause: error });
}

/** A failure of the restore target `target` while doing `what`; the library's own errors pass through. */
export function toTargetError(error: unknown, target: string, what: string): BackupError {
  return BackupError.is(error) ? error : new TargetError(target, `${what} (${target}): ${messageOf(error)}`, { cause: error });
}
