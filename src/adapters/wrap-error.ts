import { AdapterError, BackupError } from "../errors.js";

/**
 * Passes the library's own errors through (an `AbortedError` stays an abort, an
 * `InvalidKeyError` stays one) and wraps anything else as an `AdapterError` with the
 * original as `cause`.
 */
export function toAdapterError(adapter: string, operation: string, error: unknown, key?: string): BackupError {
  if (error instanceof BackupError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AdapterError(adapter, operation, message, { key, cause: error });
}
