import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import { open, rename, unlink, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { errorCode } from "./error-code.js";

/**
 * A file written under a temporary name and then renamed into place: the write-then-rename
 * sequence that makes a file appear complete or not at all. Used by the fs adapter's put
 * and by file restore targets.
 */
export interface StagedFile {
  readonly path: string;
  /** True once the rename in `publish` has happened: the final path now holds the new bytes. */
  readonly published: boolean;
  /** Appends a chunk, resolving once the operating system has taken all of it. */
  write(chunk: Uint8Array): Promise<void>;
  /** Flushes the bytes to disk (when durable) and closes the file. */
  seal(): Promise<void>;
  /** Renames the sealed file over `finalPath`, then makes the rename durable. */
  publish(finalPath: string): Promise<void>;
  /** Closes and removes the temp file unless published. Never rejects. */
  discard(): Promise<void>;
}

export interface StagedFileOptions {
  /** fsync the file before the rename and its directory after it. */
  durable: boolean;
  /** Copy mode and owner from this file (the one being replaced). */
  like?: Stats;
  /** Permission bits of a new file (without `like`), exactly: the umask does not narrow them. Default 0o666 less the umask. */
  mode?: number;
}

/** Creates `path` exclusively: it never opens, and so never truncates, a file that exists. */
export async function createStagedFile(path: string, opts: StagedFileOptions): Promise<StagedFile> {
  const mode = opts.like === undefined ? opts.mode : opts.like.mode & 0o7777;
  const handle = await open(path, "wx", mode ?? 0o666);
  let closed = false;
  let published = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };

  try {
    if (opts.like !== undefined) await copyMetadata(handle, opts.like);
    else if (mode !== undefined) await handle.chmod(mode);
  } catch (error) {
    await close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw error;
  }

  return {
    path,
    get published() {
      return published;
    },
    async write(chunk) {
      let offset = 0;
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
        offset += bytesWritten;
      }
    },
    async seal() {
      if (opts.durable) await handle.sync();
      await close();
    },
    async publish(finalPath) {
      await rename(path, finalPath);
      published = true;
      if (opts.durable) await fsyncDirectory(dirname(finalPath));
    },
    async discard() {
      if (published) return;
      await close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
    },
  };
}

async function copyMetadata(handle: FileHandle, like: Stats): Promise<void> {
  // The umask applied at creation may have dropped bits the replaced file had.
  await handle.chmod(like.mode & 0o7777);
  try {
    await handle.chown(like.uid, like.gid);
  } catch (error) {
    // Only a privileged process may give a file away; anyone else keeps their own ownership.
    if (errorCode(error) !== "EPERM") throw error;
  }
}

/** Makes a rename or unlink in `dir` durable. Platforms that cannot fsync a directory skip it. */
async function fsyncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (error) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has(errorCode(error) ?? "")) throw error;
  } finally {
    await handle?.close();
  }
}

const DIRECTORY_SYNC_UNSUPPORTED = new Set(["EISDIR", "EINVAL", "EPERM", "ENOTSUP", "EBADF"]);

/** A short random suffix for temp and set-aside names. */
export function randomSuffix(): string {
  return randomBytes(6).toString("hex");
}
