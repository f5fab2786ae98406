/**
 * Regression tests for review findings on sources and restore targets, through the built bin
 * (`node dist/cli.js`) against `--dir`: a restore next to a stale WAL, FIFOs as source and
 * target, and a dangling symbolic link as restore target. The library side is in
 * test/reliability/review-targets.test.ts.
 */
import { execFileSync } from "node:child_process";
import { closeSync, constants, existsSync, openSync } from "node:fs";
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackupper } from "../../src/index.js";
import { fileSource, fsAdapter } from "../../src/fs.js";
import { Database, values } from "../fixtures/sqlite-live.js";
import { startBin, type BinResult } from "../helpers/bin.js";
import { ledger } from "../reliability/ledger.js";

const CLI = resolve(__dirname, "../../dist/cli.js");
/** Long enough for a slow shared machine, short enough that a hang fails the test instead of the run. */
const HANG_MS = 20_000;
const log = ledger(import.meta.filename);

interface Result extends BinResult {
  /** True when the bin had to be killed after HANG_MS. */
  hung: boolean;
}

let work: string;
const fifos: string[] = [];

async function cli(args: string[]): Promise<Result> {
  const { child, done } = startBin(process.execPath, [CLI, ...args], { cwd: work, timeout: HANG_MS });
  const result = await done;
  return { ...result, hung: child.killed };
}

function summary(r: Result): string {
  return r.hung ? `still running after ${HANG_MS} ms, killed` : `exit ${r.code}: ${(r.stderr || r.stdout).trim().split("\n")[0]}`;
}

/** A WAL database holding 1, 2, 3. */
function makeDb(path: string): void {
  const db = new Database(path);
  db.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  for (const v of ["1", "2", "3"]) db.prepare("INSERT INTO t (v) VALUES (?)").run(v);
  db.close();
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build; npm test does it)`);
  work = await mkdtemp(join(tmpdir(), "backupper-cli-review-"));
});

afterAll(async () => {
  // A bin blocked in open() on a FIFO (the defect) would only end with the SIGKILL.
  for (const fifo of fifos) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: nobody is blocked reading it.
    }
  }
  await rm(work, { recursive: true, force: true });
});

describe("restore takes the kind of target from the backup, not from what is at the target", () => {
  it("a missing database next to a stale -wal/-shm: restore gives exactly the backed-up rows and sets the sidecars aside", async () => {
    const dir = await mkdtemp(join(work, "stale-wal-"));
    const store = join(dir, "b");
    const data = join(dir, "data.db");
    makeDb(data);
    const now = await cli(["now", "--source", data, "--dir", store, "--json"]);
    expect(now.code, now.stderr).toBe(0);
    const key = JSON.parse(now.stdout).backup.key as string;

    // Commits that live only in the WAL (autocheckpoint off), then the database file is lost.
    const host = new Database(data);
    host.exec("PRAGMA wal_autocheckpoint = 0; DELETE FROM t WHERE v = '1'; INSERT INTO t (v) VALUES ('STALE')");
    for (const suffix of ["-wal", "-shm"]) await copyFile(data + suffix, join(dir, `crashed${suffix}`));
    host.close();
    for (const suffix of ["-wal", "-shm"]) await copyFile(join(dir, `crashed${suffix}`), data + suffix);
    await unlink(data);
    const staleWal = await readFile(`${data}-wal`);

    const restore = await cli(["restore", key, "--source", data, "--dir", store, "--force"]);
    const observed = values(data);
    const aside = (await readdir(dir)).filter((f) => f.includes(".pre-restore-")).sort();
    log.record({
      kind: "review",
      scenario: "CLI restore of a SQLite backup: database file missing, stale -wal/-shm next to it",
      expected: "rows 1, 2, 3, integrity checked; the stale -wal and -shm set aside",
      observed: `${summary(restore)}; rows ${observed.join(", ")}; set aside: ${aside.join(", ") || "nothing"}`,
      faults: 1,
      bytesLost: 0,
    });
    expect(restore.code, restore.stderr).toBe(0);
    expect(observed).toEqual(["1", "2", "3"]);
    expect(restore.stdout).toContain("(SQLite, integrity checked)");
    expect(aside).toEqual([expect.stringMatching(/^data\.db-shm\.pre-restore-/), expect.stringMatching(/^data\.db-wal\.pre-restore-/)]);
    expect((await readFile(join(dir, aside[1]!))).equals(staleWal)).toBe(true);
  });

  it("a SQLite backup that fails integrity_check is refused (exit 4) even when nothing is at the target yet", async () => {
    const dir = await mkdtemp(join(work, "corrupt-"));
    const store = join(dir, "b");
    const data = join(dir, "data.db");
    const db = new Database(data);
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); BEGIN");
    for (let i = 0; i < 2000; i++) db.prepare("INSERT INTO t (v) VALUES (?)").run(`row ${i} `.repeat(20));
    db.exec("COMMIT");
    db.close();
    // A damaged page, with a sound header: backed up byte for byte as a plain file, verified.
    const bytes = await readFile(data);
    bytes.fill(0xff, 4096 * 2, 4096 * 3);
    await rm(data);
    const damaged = join(dir, "damaged.db");
    await writeFile(damaged, bytes);
    const { key } = await createBackupper({ adapter: fsAdapter({ root: store }), source: fileSource(damaged, { name: "data" }) }).backup();

    const to = join(dir, "restored.db");
    const restore = await cli(["restore", key, "--to", to, "--dir", store, "--name", "data"]);
    log.record({
      kind: "review",
      scenario: "CLI restore to a new path of a verified backup of a damaged SQLite file",
      expected: "refused by PRAGMA integrity_check (exit 4), nothing written",
      observed: `${summary(restore)}; target ${existsSync(to) ? "written" : "absent"}`,
      faults: 1,
      bytesLost: 0,
    });
    expect(restore.code, restore.stderr).toBe(4);
    expect(restore.stderr).toMatch(/integrity_check/);
    expect(existsSync(to)).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(["b", "damaged.db"]);
  });
});

describe("a FIFO as source or restore target", () => {
  let dir: string;
  let store: string;
  let fifo: string;
  let key: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(work, "fifo-"));
    store = join(dir, "b");
    const plain = join(dir, "queue.db");
    await writeFile(plain, "a plain file to back up");
    const now = await cli(["now", "--source", plain, "--dir", store, "--json"]);
    expect(now.code, now.stderr).toBe(0);
    key = JSON.parse(now.stdout).backup.key;
    fifo = join(dir, "fifo.db");
    execFileSync("mkfifo", [fifo]);
    fifos.push(fifo);
  });

  const cases: Array<[string, () => string[]]> = [
    ["now --source fifo", () => ["now", "--source", fifo, "--dir", store]],
    ["status --source fifo", () => ["status", "--source", fifo, "--dir", store]],
    ["restore --to fifo", () => ["restore", key, "--to", fifo, "--dir", store, "--name", "queue", "--force"]],
  ];
  for (const [label, args] of cases) {
    it(`${label} exits at once with exit 9 and an error naming the FIFO`, async () => {
      const started = Date.now();
      const result = await cli(args());
      log.record({
        kind: "review",
        scenario: `CLI ${label}, no writer on the FIFO`,
        expected: "exit 9 at once, error naming the path as not a regular file",
        observed: `${summary(result)} after ${Date.now() - started} ms`,
        faults: 1,
        bytesLost: 0,
      });
      expect(result.hung).toBe(false);
      expect(result.code, result.stderr).toBe(9);
      expect(result.stderr).toContain(fifo);
      expect(result.stderr).toMatch(/not a regular file/);
      expect((await lstat(fifo)).isFIFO()).toBe(true);
    });
  }
});

describe("a dangling symbolic link as restore target", () => {
  it("needs --force (exit 5), and with it is refused naming the link and its destination (exit 9); the link stays, nothing is written", async () => {
    const dir = await mkdtemp(join(work, "dangling-"));
    const store = join(dir, "b");
    const plain = join(dir, "app.db");
    await writeFile(plain, "backed-up content");
    const now = await cli(["now", "--source", plain, "--dir", store, "--json"]);
    expect(now.code, now.stderr).toBe(0);
    const key = JSON.parse(now.stdout).backup.key as string;
    // live.db -> mnt/app.db, with mnt an empty mount point whose file system is not mounted.
    const mountPoint = join(dir, "mnt");
    await mkdir(mountPoint);
    const destination = join(mountPoint, "app.db");
    const link = join(dir, "live.db");
    await symlink(destination, link);

    const unforced = await cli(["restore", key, "--to", link, "--dir", store, "--name", "app"]);
    const forced = await cli(["restore", key, "--to", link, "--dir", store, "--name", "app", "--force"]);
    const linkStill = (await lstat(link)).isSymbolicLink() && (await readlink(link)) === destination;
    log.record({
      kind: "review",
      scenario: "CLI restore --to a dangling symbolic link (destination on an unmounted file system)",
      expected: "exit 5 without --force; exit 9 with it, naming link and destination; link kept, nothing written",
      observed: `${summary(unforced)} / ${summary(forced)}; link ${linkStill ? "kept" : "replaced"}`,
      faults: 0,
      bytesLost: 0,
    });
    expect(unforced.code, unforced.stderr).toBe(5);
    expect(forced.code, forced.stderr).toBe(9);
    expect(forced.stderr).toContain(link);
    expect(forced.stderr).toContain(destination);
    expect(linkStill).toBe(true);
    expect(await readdir(mountPoint)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(["app.db", "b", "live.db", "mnt"]);
  });
});
