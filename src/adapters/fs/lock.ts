/**
 * The lock that makes the fs adapter's compare-and-replace atomic. POSIX offers no "rename if
 * the target is still version X", and Node no flock, so every conditional put of a key runs its
 * compare and its rename while it holds `.<name>.lock` in the key's directory, a file made with
 * O_CREAT|O_EXCL: of any number of processes, on any number of hosts sharing a POSIX filesystem,
 * exactly one creates it. The section it guards is a stat, a compare and a rename of a file
 * already written and fsynced, a few milliseconds; plain readers never take it, since the rename
 * is atomic for them anyway.
 *
 * A process killed inside that section leaves the lock behind. One older than `STALE_MS`, far
 * beyond any section, is broken: renamed to a private name (only one breaker can rename it),
 * then checked to be the very file found stale (same inode and mtime); a breaker that finds it
 * took a fresh lock instead puts it back with link(2), which refuses to replace one made
 * meanwhile, and fails its put rather than proceed beside another holder.
 */
import { link, open, rename, stat, unlink } from "node:fs/promises";
import { AdapterError, throwIfAborted } from "../../errors.js";
import { errorCode } from "../../fsutil/error-code.js";
import { randomSuffix } from "../../fsutil/staged-file.js";

const STALE_MS = 30_000;
const RETRY_MS = 5;
/** How long a put waits for the lock before it fails: many sections' worth. */
const WAIT_MS = 10_000;

/** Lock files and what breaking a stale one leaves for a moment: hidden from listings, refused as keys. */
export const LOCK_NAME = /^\..+\.lock(?:\.stale-[0-9a-f]{12})?$/;

/** Takes the lock at `path`, waiting while another put holds it; resolves the release (which never rejects). */
export async function acquireLock(path: string, signal: AbortSignal | undefined): Promise<() => Promise<void>> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    throwIfAborted(signal);
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.close();
      return () => unlink(path).catch(() => undefined);
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw error;
    }
    if (await breakIfStale(path)) continue;
    if (Date.now() > deadline) throw new AdapterError("fs", "put", `the lock ${path} of a conditional put was held for more than ${WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS + Math.random() * RETRY_MS));
  }
}

/** True when the lock at `path` was stale and is gone (or went away by itself). */
async function breakIfStale(path: string): Promise<boolean> {
  let found;
  try {
    found = await stat(path, { bigint: true });
  } catch (error) {
    if (errorCode(error) === "ENOENT") return true;
    throw error;
  }
  if (Date.now() - Number(found.mtimeMs) < STALE_MS) return false;
  const aside = `${path}.stale-${randomSuffix()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return true;
    throw error;
  }
  const taken = await stat(aside, { bigint: true });
  if (taken.ino === found.ino && taken.mtimeNs === found.mtimeNs) {
    await unlink(aside);
    return true;
  }
  try {
    await link(aside, path);
  } finally {
    await unlink(aside).catch(() => undefined);
  }
  return false;
}
