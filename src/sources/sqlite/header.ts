/**
 * The SQLite file header: how bytes are known to be a SQLite database without a driver. The
 * CLI tells a SQLite source from a plain file by it, and a file restore target tells by it
 * whether the restored bytes are a database that stale sidecars must not be replayed into.
 */
import { openRegularFile } from "../../fsutil/regular-file.js";

/** The database header's length; its first 16 bytes are the magic string. */
export const HEADER_SIZE = 100;
const MAGIC = "SQLite format 3\0";

/** Files SQLite keeps next to a database; a stale one would be replayed into a restored file. */
export const SQLITE_SIDECARS: readonly string[] = ["-wal", "-shm", "-journal"];

/**
 * The first `HEADER_SIZE` bytes of the regular file at `path` (fewer when it is shorter).
 * Rejects with a `SourceError` for anything but a regular file (see `openRegularFile`).
 */
export async function readHeader(path: string, role: string): Promise<Uint8Array> {
  const { handle } = await openRegularFile(path, role);
  try {
    const header = new Uint8Array(HEADER_SIZE);
    // A regular file reads short only at its end.
    const { bytesRead } = await handle.read(header, 0, HEADER_SIZE, 0);
    return header.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** True when `header` starts with the SQLite magic string. */
export function isSqliteHeader(header: Uint8Array): boolean {
  return header.byteLength >= MAGIC.length && new TextDecoder("latin1").decode(header.subarray(0, MAGIC.length)) === MAGIC;
}
