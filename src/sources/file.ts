/**
 * A file as a backup source, and a file as a restore target. Node-only (also Bun and Deno
 * through their `node:` compatibility); exported from `backupper/fs`.
 */

import type { Stats } from "node:fs";
import { lstat, mkdir, readdir, readlink, realpath, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { errorCode } from "../fsutil/error-code.js";
import { fileReadStream } from "../fsutil/file-read-stream.js";
import { openRegularFile, refuseIrregular } from "../fsutil/regular-file.js";
import { createStagedFile, randomSuffix, type StagedFile } from "../fsutil/staged-file.js";
import { ConfigError, TargetError, TargetExistsError, throwIfAborted, toSourceError, toTargetError } from "../errors.js";
import { checkName } from "../format/keys.js";
import type { RestoreStaging, RestoreTarget, Source, SourceSnapshot } from "../types.js";
import { isSqliteHeader, readHeader, SQLITE_SIDECARS } from "./sqlite/header.js";

export interface FileSourceOptions {
  /** Backup name (`[A-Za-z0-9._-]`). Default: the file name without its extensions, `/data/queue.db` → `queue`. */
  name?: string;
}

export interface FileTargetOptions {
  /**
   * Checks the fully written, fsynced temp file before it replaces the target (a SQLite
   * source runs an integrity check here). Throwing aborts the restore: the error is rethrown
   * and the target is left as it was.
   */
  validate?: (tempPath: string) => Promise<void>;
  /**
   * Suffixes of files that belong to the target. On commit each existing `<target><suffix>`
   * is moved aside to `<target><suffix>.pre-restore-<id>` (and kept there) so it cannot be
   * applied to the restored file; they are put back if the final rename fails. SQLite's
   * (`-wal`, `-shm`, `-journal`) are always among them when the restored bytes are a SQLite
   * database.
   */
  sidecars?: readonly string[];
}

/** A restore younger than this may still be running; an older temp file is a killed one's leftover. */
const STALE_RESTORE_MS = 3_600_000;

/** Streams the file at `path`; a restore goes back to `path` unless another location is given. */
export function fileSource(path: string, options: FileSourceOptions = {}): Source {
  checkPath(path);
  const name = options.name === undefined ? checkName(nameFromPath(path), "path") : checkName(options.name);

  return {
    name,

    async snapshot({ signal }): Promise<SourceSnapshot> {
      throwIfAborted(signal);
      let opened;
      try {
        opened = await openRegularFile(path, "source");
      } catch (error) {
        throw toSourceError(error, `cannot read source file ${path}`);
      }
      const { handle, stats } = opened;
      const { stream, close } = fileReadStream(handle, {
        size: stats.size,
        signal,
        toError: (error) => toSourceError(error, `reading source file ${path} failed`),
      });
      return { stream, size: stats.size, release: close };
    },

    target(to) {
      return fileTarget(to ?? path);
    },
  };
}

/**
 * Restores into the file at `path` through `<path>.restore-<id>` in the same directory,
 * renamed over `path` only in `commit()`: until then `path` is byte-identical to before. The
 * replaced file's mode (and owner, when permitted) carry over. A symbolic link at `path` is
 * followed: the file it points to is replaced, the link stays. A link to a file that does not
 * exist is refused, even with `force`. Restored bytes that are a SQLite database (by their
 * header, whatever is at `path` now) never meet the `-wal`/`-shm`/`-journal` left next to it.
 */
export function fileTarget(path: string, options: FileTargetOptions = {}): RestoreTarget {
  checkPath(path);
  const sidecars = checkSidecars(options.sidecars);

  return {
    description: path,

    async begin({ force, signal }): Promise<RestoreStaging> {
      throwIfAborted(signal);
      let staged: StagedFile;
      let target: string;
      try {
        const resolved = await resolveTarget(path);
        if ((resolved.existing !== undefined || resolved.danglingTo !== undefined) && !force) throw new TargetExistsError(path);
        if (resolved.danglingTo !== undefined) {
          // A link whose destination is missing is a target someone set up, so it needs force
          // like any other. Even then it is neither replaced nor followed: a link dangles most
          // often because it points into a file system that is not mounted, and a file
          // written there would land on the mount point's own disk, hidden once it is
          // mounted. Which of the two is meant, only the user can say.
          throw new TargetError(
            path,
            `restore target ${path} is a symbolic link to ${resolved.danglingTo}, which does not exist ` +
              "(a file system not mounted?): restore to the destination itself, or remove the link to restore a file in its place",
          );
        }
        const { existing } = resolved;
        target = resolved.target;
        await mkdir(dirname(target), { recursive: true });
        await removeStaleRestores(target);
        staged = await createStagedFile(`${target}.restore-${randomSuffix()}`, { durable: true, like: existing });
      } catch (error) {
        throw toTargetError(error, path, "cannot start restore");
      }

      return {
        async write(chunk) {
          try {
            throwIfAborted(signal);
            await staged.write(chunk);
          } catch (error) {
            throw toTargetError(error, path, "writing the restore temp file failed");
          }
        },

        async commit() {
          let validating = false;
          try {
            throwIfAborted(signal);
            await staged.seal();
            validating = true;
            await options.validate?.(staged.path);
            validating = false;
            throwIfAborted(signal);
            // Whatever was at the target before, restored SQLite bytes must not meet its old sidecars.
            const sqlite = isSqliteHeader(await readHeader(staged.path, "restore temp file"));
            await replaceWithSidecarsAside(target, staged, sqlite ? [...new Set([...sidecars, ...SQLITE_SIDECARS])] : sidecars);
          } catch (error) {
            await staged.discard();
            // The validator's verdict is the caller's own error: passed on unchanged.
            throw validating ? error : toTargetError(error, path, "cannot replace the target");
          }
        },

        abort: () => staged.discard(),
      };
    },
  };
}

/**
 * What a restore to `path` replaces: the file there or, for a symbolic link, the file it
 * points to (`existing`: its stats, undefined when there is none), or `danglingTo`, the
 * missing destination of a link at `path`.
 */
async function resolveTarget(path: string): Promise<{ target: string; existing?: Stats; danglingTo?: string }> {
  let target;
  try {
    target = await realpath(path);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
    const entry = await lstat(path).catch(orUndefinedIfMissing);
    if (!entry?.isSymbolicLink()) return { target: path };
    return { target: path, danglingTo: resolve(dirname(path), await readlink(path)) };
  }
  const existing = await stat(target).catch(orUndefinedIfMissing);
  if (existing === undefined) return { target };
  refuseIrregular(existing, path, "restore target", (message) => new TargetError(path, message));
  return { target, existing };
}

function orUndefinedIfMissing(error: unknown): undefined {
  if (errorCode(error) === "ENOENT") return undefined;
  throw error;
}

/** Removes `<target>.restore-<id>` files that restores killed more than an hour ago left behind. */
async function removeStaleRestores(target: string): Promise<void> {
  const dir = dirname(target);
  const prefix = `${basename(target)}.restore-`;
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix) || !/^[0-9a-f]{12}$/.test(name.slice(prefix.length))) continue;
    const path = join(dir, name);
    const stats = await stat(path).catch(() => undefined);
    if (stats?.isFile() && Date.now() - stats.mtimeMs > STALE_RESTORE_MS) await unlink(path).catch(() => undefined);
  }
}

/** Moves existing sidecars aside, renames the staged file over `target`, and puts the sidecars back if that rename fails. */
async function replaceWithSidecarsAside(target: string, staged: StagedFile, sidecars: readonly string[]): Promise<void> {
  const id = randomSuffix();
  const moved: Array<{ from: string; to: string }> = [];
  try {
    for (const suffix of sidecars) {
      const from = target + suffix;
      const to = `${from}.pre-restore-${id}`;
      try {
        await rename(from, to);
        moved.push({ from, to });
      } catch (error) {
        if (errorCode(error) !== "ENOENT") throw error;
      }
    }
    await staged.publish(target);
  } catch (error) {
    if (!staged.published) {
      // Best effort: a sidecar that cannot go back stays, intact, under its .pre-restore name.
      for (const { from, to } of moved.reverse()) await rename(to, from).catch(() => undefined);
    }
    throw error;
  }
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== "string" || path === "") throw new ConfigError("path", "must be a non-empty file path");
  if (path.includes("\0")) throw new ConfigError("path", "must not contain a NUL character");
}

/** `/data/queue.db` → `queue`, `backup.tar.gz` → `backup`, `my data.db` → `my-data`. */
function nameFromPath(path: string): string {
  const file = basename(path).replace(/^\.+/, "");
  const stem = file.split(".")[0] ?? "";
  const name = stem.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+|-+$/g, "");
  if (name === "") throw new ConfigError("name", `cannot derive a backup name from ${JSON.stringify(path)}; pass one`);
  return name;
}

function checkSidecars(sidecars: unknown): readonly string[] {
  if (sidecars === undefined) return [];
  if (!Array.isArray(sidecars) || sidecars.some((s) => typeof s !== "string" || s === "" || s.includes("/"))) {
    throw new ConfigError("sidecars", "must be an array of non-empty file name suffixes such as \"-wal\"");
  }
  return sidecars;
}
