/**
 * Opening only regular files: a FIFO blocks open() until a writer comes, possibly for good, and
 * opening a device can act on it, so sources and restore targets refuse anything else first.
 */
import { constants, type Stats } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { SourceError, type BackupError } from "../errors.js";

/**
 * Non-blocking, and never taking a terminal as controlling terminal should one be swapped in.
 * Windows has neither flag, nor FIFOs that open() could block on.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * Opens `path` for reading only if it is a regular file (a link to one counts). Opening a FIFO
 * blocks until a writer comes, possibly for good, and opening a device can act on it, so the
 * path is checked before it is opened; it is opened non-blocking, and the opened file is
 * checked again, so a path swapped for a FIFO after the first check neither blocks nor passes.
 * (Reads of a regular file ignore O_NONBLOCK.) Anything else rejects with a `SourceError`
 * calling the file `role` ("source"); I/O errors are passed on as they are.
 */
export async function openRegularFile(path: string, role: string): Promise<{ handle: FileHandle; stats: Stats }> {
  refuseIrregular(await stat(path), path, role);
  const handle = await open(path, OPEN_FLAGS);
  try {
    const stats = await handle.stat();
    refuseIrregular(stats, path, role);
    return { handle, stats };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** Throws an error saying what `path` is instead of a regular file: by default a `SourceError`. */
export function refuseIrregular(
  stats: Stats,
  path: string,
  role: string,
  fail: (message: string) => BackupError = (message) => new SourceError(message),
): void {
  if (stats.isFile()) return;
  // What stat() can see besides a regular file, links being followed.
  const what = stats.isDirectory() ? "a directory" : stats.isFIFO() ? "a FIFO" : stats.isSocket() ? "a socket" : "a device";
  throw fail(`${role} is not a regular file (${what}): ${path}`);
}
