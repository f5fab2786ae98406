/** Normalises what adapters throw, so callers only ever see the error family. */
import { AdapterError, BackupError, toAbortedError } from "./errors.js";
import type { StorageAdapter } from "./types.js";

export function asAdapterError(adapter: StorageAdapter, operation: string, key: string | undefined, error: unknown, signal?: AbortSignal): BackupError {
  if (error instanceof BackupError || BackupError.is(error)) return error as BackupError;
  if (signal?.aborted) return toAbortedError(signal.reason);
  const message = error instanceof Error ? error.message : String(error);
  return new AdapterError(adapter.name, operation, message, key === undefined ? { cause: error } : { key, cause: error });
}

/** Runs one adapter call, mapping its failure into the error family. */
export async function adapterCall<T>(
  adapter: StorageAdapter,
  operation: string,
  key: string | undefined,
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw asAdapterError(adapter, operation, key, error, signal);
  }
}
