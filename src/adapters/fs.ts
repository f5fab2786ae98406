/**
 * The fs storage adapter: objects are files under a root directory, keys are `/`-separated
 * paths below it. Node-only (also Bun and Deno through their `node:` compatibility).
 */

import { constants, type BigIntStats, type Dirent, type Stats } from "node:fs";
import { lstat, mkdir, readdir, realpath, rmdir, stat, unlink } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { AdapterError, ConfigError, InvalidKeyError, throwIfAborted, toAdapterError } from "../errors.js";
import { errorCode } from "../fsutil/error-code.js";
import { fileReadStream } from "../fsutil/file-read-stream.js";
import { createStagedFile, randomSuffix, type StagedFile } from "../fsutil/staged-file.js";
import { checkKey, conditionHolds } from "../storage/key.js";
import type { Body, ListEntry, StorageAdapter } from "../types.js";
import { bodyChunks, discardBody } from "./body.js";
import { openDir, openFile, openSubdir, type Dir } from "./fs/dir.js";
import { acquireLock, LOCK_NAME } from "./fs/lock.js";

export interface FsAdapterOptions {
  /** Directory holding the objects. A relative path is resolved against the working directory when the adapter is created. */
  root: string;
  /** fsync each file before it is renamed into place and its directory after, so a completed put survives a power loss. Default `true`. */
  fsync?: boolean;
  /**
   * Create `root` on the first put, and list a missing root as empty. Default `true`. With
   * `false` a missing root is an `AdapterError`, like a missing bucket: use it when the root is a
   * mount point that must be present.
   */
  create?: boolean;
  /** Permission bits of the objects it creates. Default 0o600: a backup is as private as a database should be; widen it (0o640) for a group that may read them. */
  mode?: number;
  /** Permission bits of the directories it creates, `root` included. Default 0o700. */
  dirMode?: number;
}

function permissions(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0o777) {
    throw new ConfigError(option, `must be permission bits from 0 to 0o777 (such as 0o640), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Names of in-progress puts: `.<name>.tmp-<12 hex>`. Never listed, and refused as keys. */
const TEMP_NAME = /^\..+\.tmp-[0-9a-f]{12}$/;

/**
 * The etag of a file: a new write is a new file (temp + rename), so its inode, size and
 * nanosecond mtime together name one version; cheap enough for every get, unlike a hash.
 */
function etagOf(stats: BigIntStats): string {
  return `"${stats.ino.toString(36)}-${stats.size.toString(36)}-${stats.mtimeNs.toString(36)}"`;
}

/** The etag of the file at `path`, undefined when there is none. */
async function currentEtag(path: string): Promise<string | undefined> {
  const stats = await ifPresent(stat(path, { bigint: true }));
  if (stats !== undefined && !stats.isFile()) throw new Error("a directory is in the way");
  return stats && etagOf(stats);
}

/**
 * Writes are atomic (an exclusive temp file in the target directory, fsynced, renamed into
 * place), reads stream in chunks. Keys that would resolve outside `root` — by `..`, an
 * absolute path, a backslash, or a symbolic link leading out of it — are refused with
 * `InvalidKeyError`; the directories of a key are opened from the root down and checked
 * before anything is done in them (see fs/dir.ts). Symbolic links that stay inside the root
 * are followed alike by put, get, delete and list: a prefix folder that is a link to another
 * folder of the root (`backups -> disk2/backups`) works, and what put stored there is listed
 * and can be pruned. A key cannot be both an object and a "directory" of other keys
 * (`a` and `a/b`): that put fails with an `AdapterError`.
 */
export function fsAdapter(options: FsAdapterOptions): StorageAdapter {
  const root = checkRoot(options?.root);
  for (const option of ["fsync", "create"] as const) {
    if (options[option] !== undefined && typeof options[option] !== "boolean") {
      throw new ConfigError(option, "must be a boolean");
    }
  }
  const durable = options.fsync ?? true;
  const create = options.create ?? true;
  const mode = permissions("mode", options.mode, 0o600);
  const dirMode = permissions("dirMode", options.dirMode, 0o700);

  /** Handles `error` from resolving root: false when root is missing and may be created later, true once created for a write. */
  async function rootMissing(operation: string, forWrite: boolean, error: unknown): Promise<boolean> {
    if (errorCode(error) !== "ENOENT") throw error;
    if (!create) throw new AdapterError("fs", operation, `root directory does not exist: ${root}`, { cause: error });
    if (!forWrite) return false;
    await mkdir(root, { recursive: true, mode: dirMode });
    return true;
  }

  /** The real path of root; `null` when it is missing and may be created later. */
  async function realRoot(operation: string, forWrite: boolean): Promise<string | null> {
    try {
      return await realpath(root);
    } catch (error) {
      return (await rootMissing(operation, forWrite, error)) ? realpath(root) : null;
    }
  }

  /** The root, opened (a link to it resolved once, here); `null` when it is missing and may be created later. */
  async function openRoot(operation: string, forWrite: boolean): Promise<Dir | null> {
    try {
      return await openDir(root);
    } catch (error) {
      return (await rootMissing(operation, forWrite, error)) ? openDir(root) : null;
    }
  }

  /** Opens the directories of `key` below the open root `chain[0]` into `chain`, then the temp file of a put in the last. */
  async function openStaged(chain: Dir[], key: string, segments: readonly string[]): Promise<StagedFile> {
    const name = segments[segments.length - 1] as string;
    for (let attempt = 1; ; attempt++) {
      await descend(chain, key, segments.slice(0, -1), dirMode);
      try {
        return await createStagedFile(join(lastOf(chain).path, `.${name}.tmp-${randomSuffix()}`), { durable, mode });
      } catch (error) {
        // A concurrent delete may have removed the directory as empty between mkdir and open.
        if (errorCode(error) !== "ENOENT" || attempt === 3) throw error;
        await closeAll(chain.splice(1));
      }
    }
  }

  /**
   * Writes `body` to a temp file in the directory of `key` and seals it, then hands `commit` that
   * directory, the object's name and the rename, which it may skip (a condition that does not
   * hold). A put aborted before the rename leaves nothing; the temp file goes unless renamed.
   */
  async function stagedPut<T>(
    key: string,
    body: Body,
    signal: AbortSignal | undefined,
    commit: (dir: string, name: string, publish: () => Promise<void>) => Promise<T>,
  ): Promise<T> {
    const chain: Dir[] = [];
    let staged: StagedFile | undefined;
    try {
      const segments = keySegments(root, key);
      throwIfAborted(signal);
      chain.push((await openRoot("put", true)) as Dir);
      const file = await openStaged(chain, key, segments);
      staged = file;
      for await (const chunk of bodyChunks(body, signal)) await file.write(chunk);
      await file.seal();
      const dir = lastOf(chain).path;
      const name = segments[segments.length - 1] as string;
      return await commit(dir, name, async () => {
        throwIfAborted(signal);
        await file.publish(join(dir, name));
      });
    } catch (error) {
      discardBody(body, error);
      throw toAdapterError(error, "fs", "put", key);
    } finally {
      await staged?.discard();
      await closeAll(chain);
    }
  }

  return {
    name: "fs",

    async *list(prefix, opts) {
      const signal = opts?.signal;
      try {
        throwIfAborted(signal);
        if ((await realRoot("list", false)) === null) return;
        yield* walk(root, "", prefix, signal, "objects");
      } catch (error) {
        throw toAdapterError(error, "fs", "list", prefix);
      }
    },

    // Temp files of puts that a killed process never finished; a live put keeps touching its file.
    async cleanupIncomplete(prefix, olderThan, opts) {
      const signal = opts?.signal;
      const removed: string[] = [];
      const chain: Dir[] = [];
      try {
        throwIfAborted(signal);
        const base = await openRoot("cleanupIncomplete", false);
        if (base === null) return removed;
        chain.push(base);
        for await (const temp of walk(root, "", prefix, signal, "temps")) {
          if ((temp.lastModified?.getTime() ?? Infinity) >= olderThan.getTime()) continue;
          if (opts?.match && !opts.match(keyOfTemp(temp.key))) continue;
          await removeThrough(chain, temp.key, temp.key.split("/"));
          removed.push(temp.key);
        }
        return removed;
      } catch (error) {
        throw toAdapterError(error, "fs", "cleanupIncomplete", prefix);
      } finally {
        await closeAll(chain);
      }
    },

    async put(key, body, opts) {
      return stagedPut(key, body, opts?.signal, async (_dir, _name, publish) => {
        await publish();
        return {};
      });
    },

    // Written and fsynced first; only the compare and the rename run under the key's lock (fs/lock.ts).
    async putIf(key, body, condition, opts) {
      return stagedPut(key, body, opts?.signal, async (dir, name, publish) => {
        const target = join(dir, name);
        const unlock = await acquireLock(join(dir, `.${name}.lock`), opts?.signal);
        try {
          if (!conditionHolds(condition, await currentEtag(target))) return { written: false };
          await publish();
          return { written: true, etag: (await currentEtag(target))! };
        } finally {
          await unlock();
        }
      });
    },

    async get(key, opts) {
      const signal = opts?.signal;
      const chain: Dir[] = [];
      try {
        const segments = keySegments(root, key);
        throwIfAborted(signal);
        const base = await openRoot("get", false);
        if (base === null) return null;
        chain.push(base);
        if (!(await descend(chain, key, segments.slice(0, -1)))) return null;
        const opened = await ifPresent(openFile(lastOf(chain), segments[segments.length - 1] as string, constants.O_RDONLY));
        if (opened === undefined) return null;
        const { handle } = opened;
        try {
          // The name itself may be a link.
          if (!isInside(base.real, opened.real)) throw outsideRoot(key);
          const stats = await handle.stat({ bigint: true });
          if (!stats.isFile()) {
            await handle.close();
            return null;
          }
          const size = Number(stats.size);
          const { stream } = fileReadStream(handle, {
            size,
            signal,
            toError: (error) => toAdapterError(error, "fs", "get", key),
          });
          return { body: stream, size, etag: etagOf(stats) };
        } catch (error) {
          await handle.close().catch(() => undefined);
          throw error;
        }
      } catch (error) {
        throw toAdapterError(error, "fs", "get", key);
      } finally {
        await closeAll(chain);
      }
    },

    async delete(keys, opts) {
      const signal = opts?.signal;
      const all = keys.map((key) => [key, keySegments(root, key)] as const);
      throwIfAborted(signal);
      let current: string | undefined;
      const chain: Dir[] = [];
      try {
        const base = await openRoot("delete", false);
        if (base === null) return;
        chain.push(base);
        for (const [key, segments] of all) {
          current = key;
          throwIfAborted(signal);
          await removeThrough(chain, key, segments);
        }
      } catch (error) {
        throw toAdapterError(error, "fs", "delete", current);
      } finally {
        await closeAll(chain);
      }
    },
  };
}

/** Errors from opening a key's path that mean "no such object". */
const NOT_AN_OBJECT = new Set(["ENOENT", "ENOTDIR"]);

function checkRoot(root: unknown): string {
  if (typeof root !== "string" || root.trim() === "") throw new ConfigError("root", "must be a non-empty directory path");
  if (root.includes("\0")) throw new ConfigError("root", "must not contain a NUL character");
  return resolve(root);
}

/** Splits a key into its path segments, refusing any key that is not a plain relative path below root. */
function keySegments(root: string, key: string): string[] {
  checkKey(key);
  const refuse = (why: string) => new InvalidKeyError(key, `fs adapter refuses key ${JSON.stringify(key)}: ${why}`);
  if (key.includes("\0")) throw refuse("it contains a NUL character");
  if (key.includes("\\")) throw refuse("it contains a backslash");
  if (key.startsWith("/")) throw refuse("it is absolute");
  const segments = key.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) throw refuse("it has an empty, '.' or '..' segment");
  if (TEMP_NAME.test(segments[segments.length - 1] as string)) throw refuse("its name is reserved for temp files");
  if (LOCK_NAME.test(segments[segments.length - 1] as string)) throw refuse("its name is reserved for the locks of conditional puts");
  if (!isBelow(root, resolve(root, ...segments))) throw refuse("it resolves outside the root");
  return segments;
}

function isBelow(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function isInside(realRootPath: string, real: string): boolean {
  return real === realRootPath || isBelow(realRootPath, real);
}

function outsideRoot(key: string): InvalidKeyError {
  return new InvalidKeyError(key, `fs adapter refuses key ${JSON.stringify(key)}: a symbolic link leads outside the root`);
}

const lastOf = (chain: readonly Dir[]): Dir => chain[chain.length - 1] as Dir;

async function closeAll(dirs: readonly Dir[]): Promise<void> {
  await Promise.all(dirs.map((dir) => dir.close().catch(() => undefined)));
}

/**
 * Extends `chain` (the open root, then open directories below it) by the directories `names`,
 * each checked to really lie inside the root before anything is done in it. Missing ones are
 * made with the permission bits `create` when it is given; otherwise a missing one, or a file in
 * the way, means there is no such key (false). The caller closes the chain.
 */
async function descend(chain: Dir[], key: string, names: readonly string[], create?: number): Promise<boolean> {
  const base = (chain[0] as Dir).real;
  for (const name of names) {
    const dir = await openChild(lastOf(chain), name, create);
    if (dir === null) return false;
    chain.push(dir);
    if (!isInside(base, dir.real)) throw outsideRoot(key);
  }
  return true;
}

/** Opens directory `name` of `parent`, made first (with mode `create`) when missing and `create` is given; `null` when missing (or a file) otherwise. */
async function openChild(parent: Dir, name: string, create: number | undefined): Promise<Dir | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openSubdir(parent, name);
    } catch (error) {
      const code = errorCode(error) ?? "";
      if (create === undefined && NOT_AN_OBJECT.has(code)) return null;
      // Missing: made below and opened again; a concurrent delete may remove it as empty in between.
      if (create === undefined || code !== "ENOENT" || attempt === 3) throw error;
    }
    try {
      // A link swapped in for `name` meanwhile is not followed by mkdir (EEXIST); descend refuses it once opened.
      await mkdir(join(parent.path, name), { mode: create });
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw error;
    }
  }
}

/**
 * Removes the file `segments` below the open root `chain[0]` through its open directories (so a
 * directory swapped for a link meanwhile cannot redirect the unlink), then the directories it
 * emptied. Directories an earlier call left open in `chain` past the root are closed first; a
 * missing directory means there is nothing to remove.
 */
async function removeThrough(chain: Dir[], key: string, segments: readonly string[]): Promise<void> {
  await closeAll(chain.splice(1));
  const dirs = segments.slice(0, -1);
  if (!(await descend(chain, key, dirs))) return;
  await removeFile(join(lastOf(chain).path, segments[segments.length - 1] as string));
  await removeEmptyDirs(chain, dirs);
}

async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    const code = errorCode(error);
    if (code !== undefined && NOT_AN_OBJECT.has(code)) return;
    // A directory (the "folder" of other keys) is not an object, so there was nothing to delete.
    if ((code === "EISDIR" || code === "EPERM") && (await lstat(path)).isDirectory()) return;
    throw error;
  }
}

/**
 * Keeps the tree tidy after a delete: removes the directories `names` (opened as `chain[1..]`
 * below the root `chain[0]`) deepest first, each through its open parent, while they are empty.
 * A directory still in use (or anything unexpected) ends it quietly; the root is never removed.
 */
async function removeEmptyDirs(chain: readonly Dir[], names: readonly string[]): Promise<void> {
  for (let i = names.length - 1; i >= 0; i--) {
    try {
      await rmdir(join((chain[i] as Dir).path, names[i] as string));
    } catch {
      return;
    }
  }
}

/**
 * Yields the files under the directory `dir` whose key (`dirKey` and their path below `dir`)
 * starts with `prefix`: the objects, or the temp files of unfinished puts (keyed by their own
 * path, matched by the key they were being written for).
 */
/** `dir/.name.tmp-<hex>` → `dir/name`: the key the interrupted put was writing. */
function keyOfTemp(tempKey: string): string {
  const slash = tempKey.lastIndexOf("/") + 1;
  return tempKey.slice(0, slash) + tempKey.slice(slash + 1, tempKey.lastIndexOf(".tmp-"));
}

async function* walk(
  dir: string,
  dirKey: string,
  prefix: string,
  signal: AbortSignal | undefined,
  kind: "objects" | "temps",
): AsyncGenerator<ListEntry> {
  const top = await openDir(dir);
  try {
    yield* walkDir(top, top.real, [], dirKey, prefix, signal, kind);
  } finally {
    await top.close();
  }
}

/**
 * Lists the open directory `dir`, then the ones below it. Links are followed, as put and get
 * follow them, to directories and files that really lie inside `base` (the real root): a
 * backup put under a linked folder must be listed, or retention never sees it. A link out of
 * the root is skipped, as put and get refuse it, and so is a link back to a directory being
 * walked (`ancestors`), whose objects are listed under the shorter key already.
 */
async function* walkDir(
  dir: Dir,
  base: string,
  ancestors: readonly string[],
  dirKey: string,
  prefix: string,
  signal: AbortSignal | undefined,
  kind: "objects" | "temps",
): AsyncGenerator<ListEntry> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir.path, { withFileTypes: true });
  } catch (error) {
    // A subdirectory removed by a concurrent delete simply has nothing left to list.
    if (dirKey !== "" && errorCode(error) === "ENOENT") return;
    throw error;
  }
  const lineage = [...ancestors, identity(await stat(dir.path))];
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    throwIfAborted(signal);
    const key = dirKey + entry.name;
    const path = join(dir.path, entry.name);
    let linked: Stats | undefined;
    if (entry.isSymbolicLink()) {
      linked = await ifPresent(stat(path));
      if (linked === undefined) continue;
    }
    if (entry.isDirectory() || linked?.isDirectory()) {
      const sub = `${key}/`;
      if (!sub.startsWith(prefix) && !prefix.startsWith(sub)) continue;
      const child = await ifPresent(openSubdir(dir, entry.name));
      if (child === undefined) continue;
      try {
        if (!isInside(base, child.real) || lineage.includes(identity(await stat(child.path)))) continue;
        yield* walkDir(child, base, lineage, sub, prefix, signal, kind);
      } finally {
        await child.close();
      }
    } else if ((entry.isFile() || linked?.isFile()) && !entry.name.includes("\\") && !LOCK_NAME.test(entry.name)) {
      const temp = TEMP_NAME.test(entry.name);
      if (temp !== (kind === "temps")) continue;
      const objectKey = temp ? keyOfTemp(key) : key;
      if (!objectKey.startsWith(prefix)) continue;
      const stats = await (linked === undefined ? ifPresent(lstat(path)) : linkedFileStats(dir, entry.name, base));
      if (stats !== undefined) yield { key, size: stats.size, lastModified: stats.mtime };
    }
  }
}

/** What a link to a file names, if that is a file inside the root. Opened, so the stats are of the file whose real path was checked. */
async function linkedFileStats(dir: Dir, name: string, base: string): Promise<Stats | undefined> {
  // Non-blocking, in case the link names a FIFO.
  const opened = await ifPresent(openFile(dir, name, constants.O_RDONLY | constants.O_NONBLOCK));
  if (opened === undefined) return undefined;
  const { handle } = opened;
  try {
    if (!isInside(base, opened.real)) return undefined;
    const stats = await handle.stat();
    return stats.isFile() ? stats : undefined;
  } finally {
    await handle.close();
  }
}

const identity = (stats: Stats) => `${stats.dev}:${stats.ino}`;

/** The result, or `undefined` when what it names was removed or replaced (by a file where a directory was) meanwhile. */
async function ifPresent<T>(pending: Promise<T>): Promise<T | undefined> {
  try {
    return await pending;
  } catch (error) {
    if (NOT_AN_OBJECT.has(errorCode(error) ?? "")) return undefined;
    throw error;
  }
}
