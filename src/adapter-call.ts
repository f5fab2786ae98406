/** Normalises what adapters throw, so callers only ever see the error family. */
import { toAdapterError, type BackupError } from "./errors.js";
import type { StorageAdapter } from "./types.js";

export function asAdapterError(adapter: StorageAdapter, operation: string, key: string | undefined, error: unknown, signal?: AbortSignal): BackupError {
  return toAdapterError(error, adapter.name, operation, key, signal);
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
    throw toAdapterError(error, adapter.name, operation, key, signal);
  }
}
