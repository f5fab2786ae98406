/**
 * The fs storage adapter: objects are files under a root directory, keys are `/`-separated
 * paths below it. Node-only (also Bun and Deno through their `node:` compatibility).
 */

import type { Dirent } from "node:fs";
import { lstat, mkdir, open, readdir, realpath, rmdir, unlink } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { AdapterError, ConfigError, InvalidKeyError, throwIfAborted } from "../errors.js";
import type { ListEntry, StorageAdapter } from "../types.js";
import { bodyChunks, discardBody } from "./body.js";
import { fileReadStream } from "./fs/file-read-stream.js";
import { errorCode } from "./fs/error-code.js";
import { createStagedFile, randomSuffix, type StagedFile } from "./fs/staged-file.js";
import { toAdapterError } from "./wrap-error.js";

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
}

/** Names of in-progress puts: `.<name>.tmp-<12 hex>`. Never listed, and refused as keys. */
const TEMP_NAME = /^\..+\.tmp-[0-9a-f]{12}$/;

/**
 * Writes are atomic (an exclusive temp file in the target directory, fsynced, renamed into
 * place), reads stream in chunks. Keys that would resolve outside `root` — by `..`, an
 * absolute path, a backslash, or a symbolic link leading out of it — are refused with
 * `InvalidKeyError`. A key cannot be both an object and a "directory" of other keys
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

  const pathOf = (key: string) => keyPath(root, key);

  /** The real path of root; `null` when it is missing and may be created later. */
  async function realRoot(operation: string, forWrite: boolean): Promise<string | null> {
    try {
      return await realpath(root);
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error;
      if (!create) throw new AdapterError("fs", operation, `root directory does not exist: ${root}`, { cause: error });
      if (!forWrite) return null;
      await mkdir(root, { recursive: true });
      return realpath(root);
    }
  }

  async function openStaged(path: string): Promise<StagedFile> {
    const dir = dirname(path);
    const temp = join(dir, `.${path.slice(dir.length + 1)}.tmp-${randomSuffix()}`);
    for (let attempt = 1; ; attempt++) {
      await mkdir(dir, { recursive: true });
      try {
        return await createStagedFile(temp, { durable });
      } catch (error) {
        // A concurrent delete may have removed the directory as empty between mkdir and open.
        if (errorCode(error) !== "ENOENT" || attempt === 3) throw error;
      }
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
        throw toAdapterError("fs", "list", error, prefix);
      }
    },

    // Temp files of puts that a killed process never finished; a live put keeps touching its file.
    async cleanupIncomplete(prefix, olderThan, opts) {
      const signal = opts?.signal;
      const removed: string[] = [];
      try {
        throwIfAborted(signal);
        if ((await realRoot("cleanupIncomplete", false)) === null) return removed;
        for await (const temp of walk(root, "", prefix, signal, "temps")) {
          if ((temp.lastModified?.getTime() ?? Infinity) >= olderThan.getTime()) continue;
          if (opts?.match && !opts.match(keyOfTemp(temp.key))) continue;
          await removeFile(join(root, ...temp.key.split("/")));
          removed.push(temp.key);
        }
        return removed;
      } catch (error) {
        throw toAdapterError("fs", "cleanupIncomplete", error, prefix);
      }
    },

    async put(key, body, opts) {
      const signal = opts?.signal;
      let staged: StagedFile | undefined;
      try {
        const path = pathOf(key);
        throwIfAborted(signal);
        const base = (await realRoot("put", true)) as string;
        // Checked before mkdir too, so a link out of root cannot make us create directories outside it.
        await assertRealInside(base, dirname(path), key);
        staged = await openStaged(path);
        await assertRealInside(base, dirname(path), key);
        for await (const chunk of bodyChunks(body, signal)) await staged.write(chunk);
        await staged.seal();
        throwIfAborted(signal);
        await staged.publish(path);
        return {};
      } catch (error) {
        discardBody(body, error);
        await staged?.discard();
        throw toAdapterError("fs", "put", error, key);
      }
    },

    async get(key, opts) {
      const signal = opts?.signal;
      try {
        const path = pathOf(key);
        throwIfAborted(signal);
        const base = await realRoot("get", false);
        if (base === null) return null;
        await assertRealInside(base, path, key);
        let handle;
        try {
          handle = await open(path, "r");
        } catch (error) {
          if (NOT_AN_OBJECT.has(errorCode(error) ?? "")) return null;
          throw error;
        }
        try {
          const stats = await handle.stat();
          if (!stats.isFile()) {
            await handle.close();
            return null;
          }
          const { stream } = fileReadStream(handle, {
            size: stats.size,
            signal,
            toError: (error) => toAdapterError("fs", "get", error, key),
          });
          return { body: stream, size: stats.size };
        } catch (error) {
          await handle.close().catch(() => undefined);
          throw error;
        }
      } catch (error) {
        throw toAdapterError("fs", "get", error, key);
      }
    },

    async delete(keys, opts) {
      const signal = opts?.signal;
      const paths = keys.map((key) => [key, pathOf(key)] as const);
      throwIfAborted(signal);
      let current: string | undefined;
      try {
        const base = await realRoot("delete", false);
        if (base === null) return;
        for (const [key, path] of paths) {
          current = key;
          throwIfAborted(signal);
          await assertRealInside(base, dirname(path), key);
          await removeFile(path);
          await removeEmptyParents(root, dirname(path));
        }
      } catch (error) {
        throw toAdapterError("fs", "delete", error, current);
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

/** Maps a key to its path, refusing any key that is not a plain relative path below root. */
function keyPath(root: string, key: string): string {
  if (typeof key !== "string" || key === "") throw new InvalidKeyError(String(key), "key must be a non-empty string");
  const refuse = (why: string) => new InvalidKeyError(key, `fs adapter refuses key ${JSON.stringify(key)}: ${why}`);
  if (key.includes("\0")) throw refuse("it contains a NUL character");
  if (key.includes("\\")) throw refuse("it contains a backslash");
  if (key.startsWith("/")) throw refuse("it is absolute");
  const segments = key.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) throw refuse("it has an empty, '.' or '..' segment");
  if (TEMP_NAME.test(segments[segments.length - 1] as string)) throw refuse("its name is reserved for temp files");
  const path = resolve(root, ...segments);
  if (!isBelow(root, path)) throw refuse("it resolves outside the root");
  return path;
}

function isBelow(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** Refuses `path` when its nearest existing ancestor (or itself) really lives outside root, through a symbolic link. */
async function assertRealInside(realRootPath: string, path: string, key: string): Promise<void> {
  let probe = path;
  for (;;) {
    try {
      const real = await realpath(probe);
      if (real !== realRootPath && !isBelow(realRootPath, real)) {
        throw new InvalidKeyError(key, `fs adapter refuses key ${JSON.stringify(key)}: a symbolic link leads outside the root`);
      }
      return;
    } catch (error) {
      if (NOT_AN_OBJECT.has(errorCode(error) ?? "") && dirname(probe) !== probe) {
        probe = dirname(probe);
        continue;
      }
      throw error;
    }
  }
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

/** Keeps the tree tidy after a delete; a directory still in use (or anything unexpected) ends it quietly. */
async function removeEmptyParents(root: string, dir: string): Promise<void> {
  for (let current = dir; isBelow(root, current); current = dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
  }
}

/**
 * Yields the files under `dir` whose key starts with `prefix`: the objects, or the temp files
 * of unfinished puts (keyed by their own path, matched by the key they were being written for).
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
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    // A subdirectory removed by a concurrent delete simply has nothing left to list.
    if (dirKey !== "" && errorCode(error) === "ENOENT") return;
    throw error;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    throwIfAborted(signal);
    const key = dirKey + entry.name;
    // Symbolic links are not followed: listing never leaves the root.
    if (entry.isDirectory()) {
      const sub = `${key}/`;
      if (sub.startsWith(prefix) || prefix.startsWith(sub)) yield* walk(join(dir, entry.name), sub, prefix, signal, kind);
    } else if (entry.isFile() && !entry.name.includes("\\")) {
      const temp = TEMP_NAME.test(entry.name);
      if (temp !== (kind === "temps")) continue;
      const objectKey = temp ? keyOfTemp(key) : key;
      if (!objectKey.startsWith(prefix)) continue;
      let stats;
      try {
        stats = await lstat(join(dir, entry.name));
      } catch (error) {
        if (errorCode(error) === "ENOENT") continue;
        throw error;
      }
      yield { key, size: stats.size, lastModified: stats.mtime };
    }
  }
}
