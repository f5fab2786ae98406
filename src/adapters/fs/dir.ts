/**
 * Directories held open while the fs adapter works in them, so that where a directory really
 * is, once checked, stays true for the operation that follows. Checking a path with realpath()
 * and then acting on the same path is not enough: a process that can write below the root can
 * swap a directory on that path for a link out of it in between.
 *
 * Node has no openat, mkdirat, renameat or unlinkat. On Linux the kernel resolves
 * `/proc/self/fd/<n>/<name>` through descriptor n itself, not through the path it was opened
 * by, so a call given such a path acts in that very directory however its old path is swapped
 * later; and readlink("/proc/self/fd/<n>") is where the descriptor really is, with no second
 * walk of a path. Node, Bun and Deno all hand such paths to the kernel unchanged.
 *
 * Without it (macOS, the BSDs, Windows, Linux without /proc, Deno not allowed to read /proc) a
 * directory is named by its real path as resolved when it was opened, and the window stays
 * open: a component swapped for a link between that check and a later open, mkdir, rename or
 * unlink still redirects the call. No check made by path can close it, since each one walks the
 * path again. `openFile` narrows it for reads (a swap must be undone between the open and
 * the check, and redone before the second look); under the race test's swapping that cut the
 * gets returning an outside file from about one in four to one in ten to thirty.
 */

import { constants } from "node:fs";
import { open, readlink, realpath, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { errorCode } from "../../fsutil/error-code.js";

export interface Dir {
  /** Names the directory in path-taking calls: `/proc/self/fd/<n>` where that reaches its descriptor, else its real path. */
  readonly path: string;
  /** Where it really is, as found when it was opened. */
  readonly real: string;
  close(): Promise<void>;
}

const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY;

/** Opens the directory at `path`, following links. */
export async function openDir(path: string): Promise<Dir> {
  if (!(await descriptorPaths())) {
    const real = await realpath(path);
    return { path: real, real, close: async () => undefined };
  }
  return descriptorDir(await open(path, DIRECTORY));
}

/** Opens the directory `name` of `dir`, following a link. */
export async function openSubdir(dir: Dir, name: string): Promise<Dir> {
  const path = join(dir.path, name);
  if (await descriptorPaths()) {
    // Not a link, the common case: then it is below the directory's real path, no readlink needed.
    try {
      return await descriptorDir(await open(path, DIRECTORY | constants.O_NOFOLLOW), join(dir.real, name));
    } catch (error) {
      // A link is ENOTDIR here, like a file: a second open tells them apart.
      if (errorCode(error) !== "ENOTDIR") throw error;
    }
  }
  return openDir(path);
}

async function descriptorDir(handle: FileHandle, real?: string): Promise<Dir> {
  const via = viaDescriptor(handle);
  try {
    return { path: via, real: real ?? (await readlink(via)), close: () => handle.close() };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** A file opened by `openFile`. */
export interface OpenedFile {
  handle: FileHandle;
  /** Where the file really is. */
  real: string;
}

/** Opens the file `name` of `dir` with `flags`, following a link, and finds where it really is. */
export async function openFile(dir: Dir, name: string, flags: number): Promise<OpenedFile> {
  const path = join(dir.path, name);
  const exact = await descriptorPaths();
  if (exact) {
    // Not a link, the common case: then it is in the directory's real path, no readlink needed.
    try {
      return { handle: await open(path, flags | constants.O_NOFOLLOW), real: join(dir.real, name) };
    } catch (error) {
      if (errorCode(error) !== "ELOOP") throw error;
    }
  }
  const handle = await open(path, flags);
  try {
    return { handle, real: exact ? await readlink(viaDescriptor(handle)) : await sameFileAt(handle, path) };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** The real path of `path`, if the file there is still the one open as `handle`. */
async function sameFileAt(handle: FileHandle, path: string): Promise<string> {
  // A link swapped in for the open and back out since leaves another file at the real path.
  const real = await realpath(path);
  const [opened, found] = await Promise.all([handle.stat({ bigint: true }), stat(real, { bigint: true })]);
  if (opened.dev !== found.dev || opened.ino !== found.ino) throw new Error(`${path} was replaced while it was being opened`);
  return real;
}

const viaDescriptor = (handle: FileHandle) => `/proc/self/fd/${handle.fd}`;

/** Failures of the probe that mean "not here": no /proc, or (Deno's permission errors, without a code) no access to it. */
const UNAVAILABLE = new Set(["ENOENT", "ENOTDIR", "EACCES", "EPERM"]);
let probe: Promise<boolean> | undefined;

/** Whether `/proc/self/fd/<n>` reaches what descriptor n has open; asked once per process. */
function descriptorPaths(): Promise<boolean> {
  probe ??= (async () => {
    let handle: FileHandle | undefined;
    try {
      handle = await open("/proc/self/fd", constants.O_RDONLY | constants.O_DIRECTORY);
      const [opened, reached] = await Promise.all([handle.stat(), stat(viaDescriptor(handle))]);
      return opened.dev === reached.dev && opened.ino === reached.ino;
    } catch (error) {
      const code = errorCode(error);
      if (code === undefined || UNAVAILABLE.has(code)) return false;
      // Anything else (out of descriptors, say) says nothing about the platform: ask again next time.
      probe = undefined;
      throw error;
    } finally {
      await handle?.close();
    }
  })();
  return probe;
}
