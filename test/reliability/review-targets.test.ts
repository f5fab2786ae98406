/**
 * Regression tests for review findings on sources and restore targets, through the library:
 * a SQLite backup restored by a plain file target next to a stale WAL, the mode of the
 * VACUUM INTO snapshot, FIFOs as sources, and a dangling symbolic link as restore target.
 * The same findings through the built bin are in test/cli/review-targets.test.ts.
 */
import { execFileSync } from "node:child_process";
import { closeSync, constants, openSync, statSync, unlinkSync } from "node:fs";
import { chmod, copyFile, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BackupError, SourceError, TargetExistsError } from "../../src/errors.js";
import { createBackupper } from "../../src/index.js";
import { fileSource, fileTarget, fsAdapter } from "../../src/fs.js";
import { sqliteSource } from "../../src/sqlite.js";
import { Database, values, type TestDatabase } from "../fixtures/sqlite-live.js";
import { ledger } from "./ledger.js";

/** Paths whose next `stat` is followed by this swap: the window between a check and the open. */
const swapAfterStat = new Map<string, () => void>();

vi.mock("node:fs/promises", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs/promises")>();
  const stat: typeof real.stat = (async (path: Parameters<typeof real.stat>[0], ...rest: [never]) => {
    const stats = await real.stat(path, ...rest);
    const swap = swapAfterStat.get(String(path));
    swapAfterStat.delete(String(path));
    swap?.();
    return stats;
  }) as typeof real.stat;
  return { ...real, default: { ...real, stat }, stat };
});

const log = ledger(import.meta.filename);

let dir: string;
/** FIFOs a test made: a reader blocked in open() on one (the defect) is released at the end. */
const fifos: string[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "backupper-review-targets-"));
});
afterEach(async () => {
  for (const fifo of fifos.splice(0)) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: nobody is blocked reading it.
    }
  }
  await rm(dir, { recursive: true, force: true });
});

function mkfifo(path: string): string {
  execFileSync("mkfifo", [path]);
  fifos.push(path);
  return path;
}

/** What `promise` settled to within `ms`: its value, its error, or "still pending". */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((done) => (timer = setTimeout(() => done(`still pending after ${ms} ms`), ms)));
  try {
    return await Promise.race([promise.catch((error: unknown) => error), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("a SQLite backup restored through fileSource(path).target()", () => {
  /**
   * A WAL database holding 1, 2, 3 is backed up as a plain file; then a host that crashed left
   * "delete 1, insert STALE" in `-wal` only. `damage` then breaks the database file the way
   * that makes someone restore: gone, or its header overwritten.
   */
  async function crashedAfterBackup(damage: "missing" | "bad header") {
    const live = join(dir, "data.db");
    const db = new Database(live);
    db.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    for (const v of ["1", "2", "3"]) db.prepare("INSERT INTO t (v) VALUES (?)").run(v);
    db.close();
    const backupper = createBackupper({ adapter: fsAdapter({ root: join(dir, "store") }), source: fileSource(live) });
    const { key } = await backupper.backup();

    const host = new Database(live);
    host.exec("PRAGMA wal_autocheckpoint = 0; DELETE FROM t WHERE v = '1'; INSERT INTO t (v) VALUES ('STALE')");
    for (const suffix of ["-wal", "-shm"]) await copyFile(live + suffix, join(dir, `crashed${suffix}`));
    host.close();
    for (const suffix of ["-wal", "-shm"]) await copyFile(join(dir, `crashed${suffix}`), live + suffix);
    if (damage === "missing") await unlink(live);
    else await writeFile(live, new Uint8Array(100), { flag: "r+" });
    return { live, backupper, key, staleWal: await readFile(`${live}-wal`), staleShm: await readFile(`${live}-shm`) };
  }

  for (const damage of ["missing", "bad header"] as const) {
    it(`gives exactly the backed-up rows when the database file is ${damage} and a stale -wal/-shm is next to it`, async () => {
      const { live, backupper, key, staleWal, staleShm } = await crashedAfterBackup(damage);
      await backupper.restore(key, { force: damage === "bad header" });

      const observed = values(live);
      const aside = (await readdir(dir)).filter((f) => f.includes(".pre-restore-")).sort();
      log.record({
        kind: "review",
        scenario: `SQLite backup restored by a plain file target; database ${damage}, stale -wal/-shm present`,
        expected: "rows 1, 2, 3; the stale -wal and -shm moved aside, intact",
        observed: `rows ${observed.join(", ")}; set aside: ${aside.join(", ") || "nothing"}`,
        faults: 1,
        bytesLost: 0,
      });
      expect(observed).toEqual(["1", "2", "3"]);
      expect(aside).toEqual([expect.stringMatching(/^data\.db-shm\.pre-restore-[0-9a-f]{12}$/), expect.stringMatching(/^data\.db-wal\.pre-restore-[0-9a-f]{12}$/)]);
      expect((await readFile(join(dir, aside[1]!))).equals(staleWal)).toBe(true);
      expect((await readFile(join(dir, aside[0]!))).equals(staleShm)).toBe(true);
    });
  }

  it("leaves files next to the target alone when the restored bytes are not a SQLite database", async () => {
    const path = join(dir, "notes");
    await writeFile(path, "old notes");
    await writeFile(`${path}-wal`, "someone else's file");
    const staging = await fileTarget(path).begin({ force: true });
    await staging.write(new TextEncoder().encode("new notes"));
    await staging.commit();
    expect(await readFile(path, "utf8")).toBe("new notes");
    expect((await readdir(dir)).sort()).toEqual(["notes", "notes-wal"]);
  });
});

describe("the VACUUM INTO snapshot of a private database", () => {
  it("is created 0600, not world-readable, while it exists next to the database", async () => {
    const path = join(dir, "private.db");
    const setup = new Database(path);
    setup.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('secret')");
    setup.close();
    await chmod(path, 0o600);
    // The usual umask, under which a file created without a mode is 0644.
    const umask = process.umask(0o022);
    const db = new Database(path);
    const modes: number[] = [];
    // The caller's handle, watched at the moment VACUUM INTO has written the snapshot.
    const watched = new Proxy(db, {
      get(target, property) {
        if (property === "prepare") {
          return (sql: string) => {
            const statement = target.prepare(sql);
            if (!sql.startsWith("VACUUM INTO")) return statement;
            return {
              run: (file: string) => {
                statement.run(file);
                modes.push(statSync(file).mode & 0o777);
              },
            };
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as TestDatabase;
    try {
      const snapshot = await sqliteSource({ db: watched, path }).snapshot({});
      await snapshot.stream.cancel();
      await snapshot.release?.();
    } finally {
      db.close();
      process.umask(umask);
    }
    log.record({
      kind: "review",
      scenario: "VACUUM INTO snapshot of a 0600 database, umask 022",
      expected: "snapshot file mode 0600 while it exists",
      observed: `snapshot file mode ${modes.map((m) => `0${m.toString(8)}`).join(", ") || "never seen"}`,
      faults: 0,
      bytesLost: 0,
    });
    expect(modes).toEqual([0o600]);
  });
});

describe("a FIFO as source", () => {
  it("fileSource(fifo).snapshot() rejects at once with a SourceError naming the path", async () => {
    const fifo = mkfifo(join(dir, "queue.db"));
    const outcome = await within(5_000, fileSource(fifo).snapshot({}));
    log.record({
      kind: "review",
      scenario: "fileSource(fifo).snapshot() with no writer on the FIFO",
      expected: "prompt SourceError naming the path",
      observed: outcome instanceof Error ? `${(outcome as BackupError).code}: ${outcome.message}` : String(outcome),
      faults: 1,
      bytesLost: 0,
    });
    expect(outcome).toBeInstanceOf(SourceError);
    expect((outcome as Error).message).toContain(fifo);
    expect((outcome as Error).message).toMatch(/not a regular file/);
  });

  it("sqliteSource({ path: fifo }).snapshot() rejects at once instead of blocking the thread in SQLite's open", async () => {
    const fifo = mkfifo(join(dir, "live.db"));
    // SQLite's open() would block synchronously, so the check runs in a child that a timeout can kill.
    const script = `
      const { sqliteSource } = await import(${JSON.stringify(new URL("../../src/sqlite.ts", import.meta.url).href)});
      const outcome = await sqliteSource({ path: ${JSON.stringify(fifo)} }).snapshot({}).then(() => "resolved", (e) => e);
      console.log(JSON.stringify({ code: outcome.code, message: outcome.message ?? outcome }));`;
    let observed: { code?: string; message?: string } | string;
    try {
      observed = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 10_000, encoding: "utf8" }));
    } catch (error) {
      observed = `no answer within 10 s (${(error as Error).message.split("\n")[0]})`;
    }
    log.record({
      kind: "review",
      scenario: "sqliteSource({ path: fifo }).snapshot() through its own connection",
      expected: "prompt SourceError naming the path",
      observed: typeof observed === "string" ? observed : `${observed.code}: ${observed.message}`,
      faults: 1,
      bytesLost: 0,
    });
    expect(observed).toMatchObject({ code: "SOURCE", message: expect.stringContaining(fifo) });
    expect((observed as { message: string }).message).toMatch(/not a regular file/);
  });

  it("is refused on the opened file too: a regular file swapped for a FIFO after it was checked neither blocks nor passes", async () => {
    const path = join(dir, "queue.db");
    await writeFile(path, "a regular file when checked");
    swapAfterStat.set(path, () => {
      unlinkSync(path);
      mkfifo(path);
    });
    const outcome = await within(5_000, fileSource(path).snapshot({}));
    log.record({
      kind: "review",
      scenario: "source swapped from a regular file to a FIFO between stat and open",
      expected: "prompt SourceError from the check on the opened descriptor",
      observed: outcome instanceof Error ? `${(outcome as BackupError).code}: ${outcome.message}` : String(outcome),
      faults: 1,
      bytesLost: 0,
    });
    expect(outcome).toBeInstanceOf(SourceError);
    expect((outcome as Error).message).toMatch(/not a regular file/);
    expect(statSync(path).isFIFO()).toBe(true);
  });
});

describe("a dangling symbolic link as restore target", () => {
  it("is a target that exists: refused without force, and with force refused naming the link and where it points", async () => {
    // The usual way a link dangles: it points into a file system that is not mounted, whose
    // mount point is an empty directory. Writing there would hide the restore under the mount.
    const mountPoint = join(dir, "mnt");
    await mkdir(mountPoint);
    const destination = join(mountPoint, "app.db");
    const link = join(dir, "live.db");
    await symlink(destination, link);

    const unforced = await fileTarget(link).begin({ force: false }).then(() => "began", (e: unknown) => e);
    const forced = await fileTarget(link).begin({ force: true }).then(() => "began", (e: unknown) => e);
    const linkStill = (await lstat(link)).isSymbolicLink() && (await readlink(link)) === destination;
    log.record({
      kind: "review",
      scenario: "restore onto a dangling symbolic link (destination on an unmounted file system)",
      expected: "TargetExistsError without force; with force a SourceError naming link and destination; link kept, nothing written",
      observed: `${String((unforced as Error).message ?? unforced)} / ${String((forced as Error).message ?? forced)}; link ${linkStill ? "kept" : "replaced"}`,
      faults: 0,
      bytesLost: 0,
    });
    expect(unforced).toBeInstanceOf(TargetExistsError);
    expect(forced).toBeInstanceOf(SourceError);
    expect((forced as Error).message).toContain(link);
    expect((forced as Error).message).toContain(destination);
    expect(linkStill).toBe(true);
    expect(await readdir(mountPoint)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(["live.db", "mnt"]);
  });
});
