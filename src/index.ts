/**
 * backupper: verified, streaming backups to any S3-compatible storage.
 * The core is runtime-neutral (Web Streams, Web Crypto, fflate); filesystem and SQLite code
 * live on their own subpath exports (`backupper/fs`, `backupper/sqlite`), adapters on
 * `backupper/s3` and `backupper/memory`.
 */
export { createBackupper } from "./backupper.js";
export type { Backupper } from "./backupper.js";
export type { BackupStatus } from "./status.js";
export type { DrillOptions } from "./operations/drill.js";
export { PROMETHEUS_CONTENT_TYPE } from "./metrics/prometheus.js";
export type { RestoreOptions, RestoreResult, VerifyResult } from "./operations/restore.js";
export type { BackupperOptions } from "./options.js";
export type { NotifyOptions, NotifyTrigger } from "./notify/options.js";
export { bytesSource, streamSource, bytesTarget } from "./sources/memory.js";
export type { BytesTarget, SourceOptions } from "./sources/memory.js";
export { keepLast, planRetention } from "./retention/policy.js";
export type { RetentionPolicy, RetentionCandidate, RetentionDecision } from "./retention/policy.js";
export type { BackupEvents, BackupHooks, DrillResult, ProgressEvent, PruneReport } from "./events.js";
export { parseMeta } from "./format/meta.js";
export { VERSION } from "./version.js";
export {
  AbortedError,
  AdapterError,
  BackupError,
  BackupInProgressError,
  ChecksumMismatchError,
  ConfigError,
  CorruptDataError,
  DecryptionError,
  InternalError,
  InvalidKeyError,
  InvalidMetadataError,
  LeaseHeldError,
  NotFoundError,
  RestoreCapError,
  SourceError,
  TargetError,
  TargetExistsError,
  UnverifiedBackupError,
  throwIfAborted,
  toAbortedError,
} from "./errors.js";
export type { BackupErrorCode } from "./errors.js";
export type * from "./types.js";
