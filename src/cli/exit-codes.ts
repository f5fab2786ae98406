/**
 * The bin's exit codes: stable, documented in `--help`, so cron jobs and monitoring can tell
 * "the backup is corrupt" from "the bucket is unreachable" without parsing messages.
 */
import { BackupError, type BackupErrorCode } from "../errors.js";

export const EXIT_CODES = {
  OK: 0,
  /** A bug or an error the library did not classify. */
  UNEXPECTED: 1,
  /** Bad command line, bad environment variable, or backups disabled. */
  USAGE: 2,
  /** No such backup. */
  NOT_FOUND: 3,
  /** A backup failed verification: checksum mismatch, corrupt data, invalid or missing metadata; or it cannot be decrypted with the keys given; or a drill's check failed. */
  INTEGRITY: 4,
  /** The restore target exists and `--force` was not given. */
  TARGET_EXISTS: 5,
  /** The storage (S3, directory) failed: unreachable, denied, missing bucket. */
  STORAGE: 6,
  /** Another backup of this backupper is running, or another process holds the source's lease (`--lease`). */
  IN_PROGRESS: 7,
  /** `status --max-age`: the newest verified backup is older than allowed, or there is none. */
  STALE: 8,
  /** The source cannot be read, or the restore target cannot be written. */
  SOURCE: 9,
  /** Interrupted by SIGINT/SIGTERM (128 + SIGINT, as shells report it). */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

const BY_ERROR_CODE: Record<BackupErrorCode, ExitCode> = {
  CONFIG: EXIT_CODES.USAGE,
  INVALID_KEY: EXIT_CODES.USAGE,
  NOT_FOUND: EXIT_CODES.NOT_FOUND,
  CHECKSUM_MISMATCH: EXIT_CODES.INTEGRITY,
  CORRUPT_DATA: EXIT_CODES.INTEGRITY,
  INVALID_METADATA: EXIT_CODES.INTEGRITY,
  UNVERIFIED: EXIT_CODES.INTEGRITY,
  DECRYPT: EXIT_CODES.INTEGRITY,
  TARGET_EXISTS: EXIT_CODES.TARGET_EXISTS,
  ADAPTER: EXIT_CODES.STORAGE,
  IN_PROGRESS: EXIT_CODES.IN_PROGRESS,
  LEASE_HELD: EXIT_CODES.IN_PROGRESS,
  SOURCE: EXIT_CODES.SOURCE,
  TARGET: EXIT_CODES.SOURCE,
  ABORTED: EXIT_CODES.INTERRUPTED,
  INTERNAL: EXIT_CODES.UNEXPECTED,
};

export function exitCodeOf(error: unknown): ExitCode {
  return BackupError.is(error) ? BY_ERROR_CODE[error.code] : EXIT_CODES.UNEXPECTED;
}
