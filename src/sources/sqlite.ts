/**
 * A live SQLite database as a backup source, and a restore target that only ever puts a
 * sound SQLite file in its place.
 *
 * A snapshot is `VACUUM INTO` a temp file next to the database: one read transaction, so the
 * copy is the database as of one commit even while other connections or processes write (WAL
 * mode included), and SQLite — not a byte copy of a file being written — produces it. The
 * temp file is then streamed from disk, so memory does not grow with the database. In
 * rollback-journal mode that read transaction holds a shared lock, so writers wait (up to
 * their busy timeout) until the copy is done: WAL mode lets them go on. (The drivers'
 * online-backup APIs, better-sqlite3 `backup()` and node:sqlite `backup()`, measured ~20%
 * faster on a 100 MiB database when done in one step, but copy free pages and the WAL flag
 * into the copy and run inside a caller's open transaction; in several steps they restart
 * whenever another connection writes. `VACUUM INTO` stays, for all three drivers.) The copy is
 * written with `synchronous` off: a scratch file deleted after the upload needs no fsync.
 */
import { randomUUID } from "node:crypto";
import { open, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { realpathSync } from "node:fs";
import { ConfigError, CorruptDataError, SourceError, messageOf, throwIfAborted } from "../errors.js";
import { refuseIrregular } from "../fsutil/regular-file.js";
import { endingAfter } from "../util/streams.js";
import type { DrillScratch, RestoreTarget, Source, SourceSnapshot } from "../types.js";
import { fileSource, fileTarget } from "./file.js";
import { drillScratch } from "./drill-scratch.js";
import { drillChecks, headerProblem, integrityProblems } from "./sqlite/check.js";
import { checkOnThread } from "./sqlite/check-thread.js";
import { loadRuntimeDriver, recogniseHandle, type SqliteDriver, type SqliteHandle } from "./sqlite/driver.js";
import { isSqliteHeader, readHeader } from "./sqlite/header.js";

export interface SqliteSourceOptions {
  /**
   * The host's own open handle on `path`: a `better-sqlite3` `Database`, a `bun:sqlite`
   * `Database` or a `node:sqlite` `DatabaseSync`. The snapshot runs `VACUUM INTO` on it, which
   * is synchronous: it holds the thread for as long as SQLite takes to copy the database (it
   * does not block writers in other processes, and in WAL mode not readers either). It fails
   * while the handle is inside a transaction. Without `db`, the source opens `path` read-only
   * with the runtime's driver for each snapshot.
   */
  db?: unknown;
  /** The database file: where snapshots are taken next to, and where restores go by default. */
  path: string;
  /** Backup name (default: the file name without extension, as `fileSource`). */
  name?: string;
  /**
   * Check each snapshot before its backup is committed, and each staged restore before it
   * replaces the database (default true). A snapshot gets `PRAGMA quick_check`: `VACUUM INTO`
   * has just rebuilt every index from its table, so integrity_check's extra work, matching each
   * index against its table, has nothing to find there, and quick_check took 0.09-0.11 s against
   * 0.41-0.54 s on a 100 MiB database. `"full"` runs `integrity_check` on snapshots too. A
   * restore always gets `integrity_check`. `false` checks neither. Without `db`, the snapshot's
   * check runs on a worker thread while the snapshot uploads, and its stream ends only once the
   * check passed, so a snapshot that fails it fails the backup before the metadata is written
   * (a worker costs ~20 MiB while it runs; where none can load the driver, and with `db`,
   * the check runs on this thread before the upload).
   */
  integrityCheck?: boolean | "full";
  /**
   * Directory for the snapshot temp file and for a drill's private copy (default: the database's
   * own directory, whose file system has room for a copy; /tmp is often a small tmpfs).
   */
  tempDir?: string;
  /**
   * A query `drill()` runs on the restored copy after `PRAGMA integrity_check`, such as
   * `SELECT count(*) FROM jobs`; the first column of its first row is reported as the check's
   * `value`. The copy is opened read-only. A query that fails fails the drill.
   */
  drillQuery?: string;
}

function samePath(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** The driver of the caller's `handle`, or else the runtime's; `purpose` and `path` say what it was needed for. */
async function driverFor(handle: SqliteHandle | undefined, purpose: string, path: string): Promise<SqliteDriver> {
  const found = handle?.driver ?? (await loadRuntimeDriver());
  if (!found) {
    throw new SourceError(
      `cannot ${purpose} ${path}: no SQLite driver on this runtime (bun:sqlite, node:sqlite or the better-sqlite3 package)`,
    );
  }
  return found;
}

/**
 * Checks a staged restore before it replaces `destination`: a SQLite header, then, when
 * `integrityCheck`, `PRAGMA integrity_check`. Throws a `CorruptDataError` naming `destination`.
 */
async function checkRestored(
  staged: string,
  destination: string,
  integrityCheck: boolean,
  driver: () => Promise<SqliteDriver>,
): Promise<void> {
  const problem = await headerProblem(staged);
  if (problem) throw new CorruptDataError(destination, `restored file is not a SQLite database: ${problem}`);
  if (!integrityCheck) return;
  const problems = await integrityProblems(await driver(), staged);
  if (problems.length > 0) {
    throw new CorruptDataError(destination, `restored database fails PRAGMA integrity_check: ${problems.join("; ")}`);
  }
}

/**
 * Runs `copy` with the connection's `synchronous` off, then puts the setting back. `VACUUM INTO`
 * syncs its output as the main database's setting says, and the snapshot is a scratch file that
 * is deleted after the upload (a crash loses the backup, never data): its syncs cost a third of
 * the snapshot's time (0.88 → 0.55 s for 512 MiB, bench/PROFILE.md). A caller's handle gets its
 * own setting back, so its writes stay as durable as it chose.
 */
function withoutSync(db: SqliteHandle["connection"], copy: () => void): void {
  const level = Number(db.all("PRAGMA main.synchronous")[0]?.synchronous);
  if (!Number.isInteger(level)) return copy();
  db.run("PRAGMA main.synchronous = OFF");
  try {
    copy();
  } finally {
    db.run(`PRAGMA main.synchronous = ${level}`);
  }
}

function checkOptions(opts: SqliteSourceOptions): SqliteHandle | undefined {
  if (typeof opts !== "object" || opts === null) throw new ConfigError("options", "must be an object with at least `path`");
  if (typeof opts.path !== "string" || opts.path === "") throw new ConfigError("path", "must be the path of the SQLite database file");
  if (opts.integrityCheck !== undefined && typeof opts.integrityCheck !== "boolean" && opts.integrityCheck !== "full") {
    throw new ConfigError("integrityCheck", `must be true, false or "full"`);
  }
  if (opts.tempDir !== undefined && (typeof opts.tempDir !== "string" || opts.tempDir === "")) {
    throw new ConfigError("tempDir", "must be a directory path");
  }
  if (opts.drillQuery !== undefined && (typeof opts.drillQuery !== "string" || opts.drillQuery.trim() === "")) {
    throw new ConfigError("drillQuery", "must be an SQL query such as \"SELECT count(*) FROM jobs\"");
  }
  if (opts.db === undefined) return undefined;
  const handle = recogniseHandle(opts.db);
  if (!handle) throw new ConfigError("db", "must be an open better-sqlite3 Database, bun:sqlite Database or node:sqlite DatabaseSync");
  if (handle.filename === null) throw new ConfigError("db", "is an in-memory database; sqliteSource backs up a database file");
  if (handle.filename !== undefined && !samePath(handle.filename, opts.path)) {
    // Restores go to `path`: a mismatch would back up one database and restore over another.
    throw new ConfigError("db", `is open on ${handle.filename}, but path is ${opts.path}`);
  }
  return handle;
}

/**
 * Backs up a SQLite database consistently while it is in use, and restores into it safely.
 *
 * Restoring over a live database: the host must first close its own connections to `path`
 * (or stop using them until the restore is done). The restore replaces the file by rename and
 * moves `-wal`/`-shm`/`-journal` aside; a connection still open keeps reading the old, now
 * unlinked file and its own WAL index, and its next write would go to the wrong place.
 */
export function sqliteSource(opts: SqliteSourceOptions): Source {
  const handle = checkOptions(opts);
  const { path, integrityCheck = true } = opts;
  const tempDir = opts.tempDir ?? dirname(path);
  const name = fileSource(path, opts.name === undefined ? {} : { name: opts.name }).name;

  const driver = (purpose: string) => driverFor(handle, purpose, path);

  async function vacuumInto(temp: string): Promise<void> {
    const own = handle ? undefined : await driver("snapshot");
    if (own) {
      // SQLite's open() of a FIFO blocks the thread for good, and a driver cannot open
      // non-blocking: a FIFO, device or directory is refused first. Other stat failures
      // (a missing file) are left for the driver to report.
      const stats = await stat(path).catch(() => undefined);
      if (stats) refuseIrregular(stats, path, "source");
    }
    let db;
    try {
      db = handle?.connection ?? own!.openReadOnly(path);
    } catch (cause) {
      throw new SourceError(`cannot open SQLite database ${path}: ${messageOf(cause)}`, { cause });
    }
    try {
      // VACUUM INTO would create the copy with the umask's mode, often world-readable; it
      // accepts an empty file, so it gets one that only this user can read.
      await (await open(temp, "wx", 0o600)).close();
      withoutSync(db, () => db.run("VACUUM INTO ?", temp));
    } catch (cause) {
      // Deno's node:sqlite allows no ATTACH (which VACUUM INTO needs) unless every permission is granted.
      const hint = /max 0/.test(messageOf(cause)) && "Deno" in globalThis ? " (on Deno, VACUUM INTO needs all permissions: run with -A)" : "";
      throw new SourceError(`cannot snapshot SQLite database ${path} into ${temp}: ${messageOf(cause)}${hint}`, { cause });
    } finally {
      if (own) db.close();
    }
  }

  /**
   * Starts the snapshot's check (`integrityCheck`). On a worker thread where one can load the
   * driver, returning the check under way: the snapshot then uploads meanwhile and its stream
   * ends only once the check passed. Otherwise on this thread, done (or thrown) before the upload.
   */
  async function checkSnapshot(temp: string): Promise<{ passed: Promise<void>; stop(): Promise<void> } | undefined> {
    const pragma = integrityCheck === "full" ? "integrity_check" : "quick_check";
    const refuse = (problems: string[]) => {
      if (problems.length > 0) throw new SourceError(`snapshot of ${path} fails PRAGMA ${pragma}: ${problems.join("; ")}`);
    };
    const checker = await driver("check");
    const thread = checker.module && (await checkOnThread(checker.module, temp, pragma));
    if (thread) {
      const passed = thread.problems.then(refuse);
      // Read by the stream, which may be cancelled before it ends.
      passed.catch(() => undefined);
      return { passed, stop: thread.stop };
    }
    refuse(await integrityProblems(checker, temp, pragma));
    return undefined;
  }

  async function snapshot({ signal }: { signal?: AbortSignal }): Promise<SourceSnapshot> {
    throwIfAborted(signal);
    const temp = join(tempDir, `.${basename(path)}.snapshot-${randomUUID().slice(0, 8)}`);
    const removeTemp = () => rm(temp, { force: true });
    let check: Awaited<ReturnType<typeof checkSnapshot>>;
    try {
      await vacuumInto(temp);
      throwIfAborted(signal);
      if (integrityCheck) check = await checkSnapshot(temp);
      throwIfAborted(signal);
      const file = await fileSource(temp, { name: "snapshot" }).snapshot(signal ? { signal } : {});
      // The temp file is 0600 whatever the database is; the metadata records the database's mode.
      const { mode } = await stat(path);
      // The open handles (ours and the check's) keep the bytes readable; unlinking now means a
      // process killed mid-upload leaves no temp file behind. Where an open file cannot be
      // unlinked (Windows), release() removes it.
      await removeTemp().catch(() => undefined);
      return {
        ...file,
        stream: check ? endingAfter(file.stream, check.passed) : file.stream,
        mode: mode & 0o777,
        async release() {
          await check?.stop();
          try {
            await file.release?.();
          } finally {
            await removeTemp();
          }
        },
      };
    } catch (error) {
      await check?.stop();
      await removeTemp().catch(() => undefined);
      throw error;
    }
  }

  function target(to?: string): RestoreTarget {
    const destination = to ?? path;
    // What this check lets through is SQLite, so fileTarget also moves the old sidecars aside.
    return fileTarget(destination, {
      validate: (staged) => checkRestored(staged, destination, integrityCheck !== false, () => driver("check the restore for")),
    });
  }

  const drill = () => drillScratch(tempDir, (file) => drillChecks(() => driver("check the drill of"), file, opts.drillQuery));

  return { name, snapshot, target, drill };
}

/**
 * A restore target at `path` for a backup of either kind, told apart by the restored bytes,
 * never by what is at `path` now (a missing or damaged database is the usual reason to
 * restore). Bytes with the SQLite header get the checks of `sqliteSource`'s target, header
 * and `PRAGMA integrity_check` through the runtime's driver, before they replace anything;
 * other bytes are restored as `fileTarget` restores them. `restored` hears which it was once
 * the check has passed.
 */
export function sqliteOrFileTarget(path: string, restored?: (kind: "sqlite" | "file") => void): RestoreTarget {
  return fileTarget(path, {
    async validate(staged) {
      if (!isSqliteHeader(await readHeader(staged, "restored file"))) {
        restored?.("file");
        return;
      }
      await checkRestored(staged, path, true, () => driverFor(undefined, "check the restore for", path));
      restored?.("sqlite");
    },
  });
}

/**
 * A drill's scratch place under `parent` for a backup of either kind, told apart by the restored
 * bytes as `sqliteOrFileTarget` does: a SQLite database gets `sqliteSource`'s drill checks
 * (header, `PRAGMA integrity_check`, `query`), other bytes none beyond verify, except that a
 * `query` there fails: it was asked of a database the backup is not.
 */
export function sqliteOrFileDrill(parent: string, query: string | undefined): Promise<DrillScratch> {
  return drillScratch(parent, async (file) => {
    if (isSqliteHeader(await readHeader(file, "restored file"))) return drillChecks(() => driverFor(undefined, "check the drill of", file), file, query);
    return query === undefined ? [] : [{ name: "query", ok: false, detail: `${query}: the backup is not a SQLite database` }];
  });
}
