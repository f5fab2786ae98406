import { toAdapterError as normalise, type BackupError } from "../errors.js";

/** The fs adapter's spelling of `toAdapterError` (errors.ts), until it calls that directly. */
export function toAdapterError(adapter: string, operation: string, error: unknown, key?: string): BackupError {
  return normalise(error, adapter, operation, key);
}
