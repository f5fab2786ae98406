/**
 * sqliteSource on Node 20 with better-sqlite3: snapshots of a database another process is
 * writing, temp-file cleanup on every path, and restores that refuse a bad file and keep a
 * stale WAL from being replayed into the restored one.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BackupError } from "../../src/errors.js";
import { sqliteSource } from "../../src/sqlite.js";
import type { RestoreTarget, Source } from "../../src/types.js";
import { Database, expectConsistentPrefix, snapshotTemps, startWriter, type TestDatabase } from "../fixtures/sqlite-live.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "backupper-sqlite-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) yield next.value;
}

/** Streams `chunks` into a staged restore of `target` and commits it. */
async function restoreInto(target: RestoreTarget, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
  const staging = await target.begin({ force: true });
  try {
    for await (const chunk of chunks) await staging.write(chunk);
    await staging.commit();
  } catch (error) {
    await staging.abort();
    throw error;
  }
}

/** Takes a snapshot of `source`, restores it to `out` through the source's own target, releases it; returns the chunk sizes. */
async function snapshotTo(source: Source, out: string, signal?: AbortSignal): Promise<{ size: number | undefined; chunks: number[] }> {
  const snapshot = await source.snapshot(signal ? { signal } : {});
  const chunks: number[] = [];
  try {
    await restoreInto(source.target!(out), (async function* () {
      for await (const chunk of chunksOf(snapshot.stream)) {
        chunks.push(chunk.byteLength);
        yield chunk;
      }
    })());
  } finally {
    await snapshot.release?.();
  }
  return { size: snapshot.size, chunks };
}

function rowsOf(file: string): unknown[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT * FROM t ORDER BY rowid").all();
  } finally {
    db.close();
  }
}

function makeDb(file: string, rows: string[], wal = false): void {
  const db = new Database(file);
  if (wal) db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE t (v TEXT); BEGIN");
  for (const v of rows) db.prepare("INSERT INTO t VALUES (?)").run(v);
  db.exec("COMMIT");
  db.close();
}

async function rejection(promise: Promise<unknown>): Promise<BackupError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(BackupError.is(error), `expected a BackupError, got ${String(error)}`).toBe(true);
  return error as BackupError;
}

describe("sqliteSource snapshot of a live database", () => {
  const cases = (["WAL", "DELETE"] as const).flatMap((journalMode) =>
    (["the caller's better-sqlite3 handle", "its own read-only connection"] as const).map((via) => ({ journalMode, via })),
  );
  for (const { journalMode, via } of cases) {
    it(`is a consistent prefix of a writer's commits (journal_mode ${journalMode}), taken through ${via}`, async () => {
      const path = join(dir, "queue.db");
      const writer = await startWriter([process.execPath], "better-sqlite3", path, { journalMode });
      const handle = via === "its own read-only connection" ? undefined : new Database(path);
      try {
        const source = sqliteSource(handle ? { db: handle, path } : { path });
        expect(source.name).toBe("queue");
        const before = writer.committed;
        const out = join(dir, "restored.db");
        const { size, chunks } = await snapshotTo(source, out);
        const final = await writer.stop();

        const n = expectConsistentPrefix(out);
        expect(n).toBeGreaterThanOrEqual(Math.max(before, 2000));
        expect(final, "the writer kept committing after the snapshot").toBeGreaterThan(n);
        expect(size).toBe(readFileSync(out).byteLength);
        expect(chunks.reduce((a, b) => a + b, 0)).toBe(size);
        expect(Math.max(...chunks)).toBeLessThanOrEqual(1 << 20);
        expect(snapshotTemps(dir)).toEqual([]);
      } finally {
        handle?.close();
        await writer.stop();
      }
    });
  }

  it("unlinks the temp file as soon as it is open, so a killed process leaves none, and streams it whole", async () => {
    const path = join(dir, "a.db");
    makeDb(path, Array.from({ length: 5000 }, (_, i) => `row ${i} `.repeat(50)));
    const temps = mkdtempSync(join(dir, "temps-"));
    const snapshot = await sqliteSource({ path, tempDir: temps }).snapshot({});
    expect(snapshotTemps(temps)).toEqual([]);
    expect(snapshotTemps(dir)).toEqual([]);
    const out = join(dir, "out.db");
    try {
      await restoreInto(sqliteSource({ path: out }).target!(), chunksOf(snapshot.stream));
    } finally {
      await snapshot.release?.();
    }
    expect(statSync(out).size).toBe(snapshot.size);
    expect(snapshot.size).toBeGreaterThan(2 << 20);
    expect(rowsOf(out)).toEqual(rowsOf(path));
  });
});

describe("sqliteSource failures and aborts leave no temp file", () => {
  let path: string;
  beforeEach(() => {
    path = join(dir, "data.db");
    makeDb(path, ["a", "b"], true);
  });

  it("fails with a SourceError naming the database and the temp file when the temp directory is missing", async () => {
    const missing = join(dir, "missing");
    const error = await rejection(sqliteSource({ path, tempDir: missing }).snapshot({}));
    expect(error.code).toBe("SOURCE");
    expect(error.message).toContain(path);
    expect(error.message).toContain(join(missing, ".data.db.snapshot-"));
    expect(snapshotTemps(dir)).toEqual([]);
  });

  it("fails with a SourceError when the caller's handle is inside a transaction", async () => {
    const db = new Database(path);
    try {
      db.exec("BEGIN");
      const error = await rejection(sqliteSource({ db, path }).snapshot({}));
      expect(error.code).toBe("SOURCE");
      expect(error.message).toContain(path);
      expect(error.message).toMatch(/transaction/);
      expect(snapshotTemps(dir)).toEqual([]);
    } finally {
      db.close();
    }
  });

  it("fails with a SourceError naming a database file that does not exist", async () => {
    const missing = join(dir, "nope.db");
    const error = await rejection(sqliteSource({ path: missing }).snapshot({}));
    expect(error.code).toBe("SOURCE");
    expect(error.message).toContain(missing);
    expect(existsSync(missing)).toBe(false);
  });

  it("honours a signal aborted before the snapshot", async () => {
    const error = await rejection(sqliteSource({ path }).snapshot({ signal: AbortSignal.abort() }));
    expect(error.code).toBe("ABORTED");
    expect(snapshotTemps(dir)).toEqual([]);
  });

  it("deletes the temp file when the signal aborts during VACUUM INTO", async () => {
    const controller = new AbortController();
    const db = new Database(path);
    let vacuumed = false;
    // The caller's handle, but the abort lands while VACUUM INTO runs (it cannot be interrupted).
    const aborting = new Proxy(db, {
      get(target, property) {
        if (property === "prepare") {
          return (sql: string) => {
            const statement = target.prepare(sql);
            if (!sql.startsWith("VACUUM")) return statement;
            return {
              run: (...params: unknown[]) => {
                statement.run(...params);
                vacuumed = true;
                controller.abort();
              },
            };
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as TestDatabase;
    try {
      const error = await rejection(sqliteSource({ db: aborting, path }).snapshot({ signal: controller.signal }));
      expect(vacuumed).toBe(true);
      expect(error.code).toBe("ABORTED");
      expect(snapshotTemps(dir)).toEqual([]);
    } finally {
      db.close();
    }
  });

  it("ends the stream with an AbortedError when aborted mid-stream, leaving no temp file", async () => {
    const big = join(dir, "big.db");
    const db = new Database(big);
    db.exec("CREATE TABLE t (v BLOB); BEGIN");
    for (let i = 0; i < 64; i++) db.prepare("INSERT INTO t VALUES (?)").run(Buffer.alloc(100_000, i));
    db.exec("COMMIT");
    db.close();
    const controller = new AbortController();
    const snapshot = await sqliteSource({ path: big }).snapshot({ signal: controller.signal });
    const reader = snapshot.stream.getReader();
    expect((await reader.read()).done).toBe(false);
    controller.abort();
    const outcome = await (async () => {
      while (!(await reader.read()).done);
      return "read to the end";
    })().catch((e: unknown) => e);
    expect(BackupError.is(outcome, "ABORTED"), String(outcome)).toBe(true);
    await snapshot.release?.();
    expect(snapshotTemps(dir)).toEqual([]);
  });
});

describe("sqliteSource options", () => {
  it("rejects bad options with a ConfigError naming the option", () => {
    const path = join(dir, "x.db");
    makeDb(path, []);
    const other = new Database(join(dir, "other.db"));
    const memory = new Database(":memory:");
    try {
      const cases: [unknown, string][] = [
        [{}, "path"],
        [{ path: "" }, "path"],
        [{ path, integrityCheck: "yes" }, "integrityCheck"],
        [{ path, integrityCheck: "quick" }, "integrityCheck"],
        [{ path, tempDir: "" }, "tempDir"],
        [{ path, db: { prepare() {} } }, "db"],
        [{ path, db: other }, "db"],
        [{ path, db: memory }, "db"],
        [{ path, name: "../x" }, "name"],
      ];
      for (const [options, option] of cases) {
        let error: unknown;
        try {
          sqliteSource(options as never);
        } catch (e) {
          error = e;
        }
        expect(error, JSON.stringify(options)).toMatchObject({ code: "CONFIG", option });
      }
    } finally {
      other.close();
      memory.close();
    }
  });
});

describe("sqliteSource snapshot copy", () => {
  it("runs VACUUM INTO with synchronous off (a scratch file needs no fsync) and gives a caller's handle its own setting back", async () => {
    const path = join(dir, "sync.db");
    makeDb(path, ["a", "b"]);
    const seen: string[] = [];
    class Recording extends Database {
      override prepare(sql: string) {
        if (/synchronous|VACUUM/.test(sql)) seen.push(sql);
        return super.prepare(sql);
      }
    }
    const db = new Recording(path);
    try {
      db.pragma("synchronous = EXTRA");
      seen.length = 0;
      await snapshotTo(sqliteSource({ db, path, integrityCheck: false }), join(dir, "sync-out.db"));
      expect(seen).toEqual(["PRAGMA main.synchronous", "PRAGMA main.synchronous = OFF", "VACUUM INTO ?", "PRAGMA main.synchronous = 3"]);
      expect(db.prepare("PRAGMA synchronous").get()).toEqual({ synchronous: 3 });
      expect(rowsOf(join(dir, "sync-out.db"))).toEqual(rowsOf(path));
    } finally {
      db.close();
    }
  });
});

describe("sqliteSource integrityCheck on the snapshot", () => {
  let runs = 0;
  /** The check statements the source runs for one snapshot and one restore of it, seen through the handle's class, which opens the files it checks. */
  async function checksRun(integrityCheck: boolean | "full" | undefined): Promise<string[]> {
    const run = String(++runs);
    const path = join(dir, `q${run}.db`);
    makeDb(path, ["a", "b"]);
    const seen: string[] = [];
    class Recording extends Database {
      override prepare(sql: string) {
        if (sql.startsWith("PRAGMA") && sql.includes("check")) seen.push(sql);
        return super.prepare(sql);
      }
    }
    const db = new Recording(path);
    try {
      await snapshotTo(sqliteSource({ db, path, ...(integrityCheck === undefined ? {} : { integrityCheck }) }), join(dir, `out${run}.db`));
    } finally {
      db.close();
    }
    return seen;
  }

  it("is quick_check by default (VACUUM INTO rebuilt every index), integrity_check with \"full\", none with false; a restore always gets integrity_check", async () => {
    expect(await checksRun(undefined)).toEqual(["PRAGMA quick_check(5)", "PRAGMA integrity_check(5)"]);
    expect(await checksRun(true)).toEqual(["PRAGMA quick_check(5)", "PRAGMA integrity_check(5)"]);
    expect(await checksRun("full")).toEqual(["PRAGMA integrity_check(5)", "PRAGMA integrity_check(5)"]);
    expect(await checksRun(false)).toEqual([]);
  });
});

describe("sqliteSource target()", () => {
  let live: string;
  let source: Source;
  beforeEach(() => {
    live = join(dir, "live.db");
    makeDb(live, ["old 1", "old 2"]);
    writeFileSync(`${live}-wal`, "stale wal bytes");
    writeFileSync(`${live}-shm`, "stale shm bytes");
    source = sqliteSource({ path: live });
  });

  function expectUntouched(before: Buffer): void {
    expect(readFileSync(live).equals(before)).toBe(true);
    expect(readFileSync(`${live}-wal`, "utf8")).toBe("stale wal bytes");
    expect(readFileSync(`${live}-shm`, "utf8")).toBe("stale shm bytes");
    expect(readdirSync(dir).filter((f) => f.includes(".restore-") || f.includes(".pre-restore-"))).toEqual([]);
  }

  it("rejects a file without the SQLite header and leaves the database and its sidecars as they were", async () => {
    const before = readFileSync(live);
    const error = await rejection(restoreInto(source.target!(), [new TextEncoder().encode("x".repeat(4096))]));
    expect(error.code).toBe("CORRUPT_DATA");
    expect(error.message).toMatch(/not a SQLite database/);
    expectUntouched(before);
  });

  it("rejects a file with a valid header that fails PRAGMA integrity_check", async () => {
    const good = join(dir, "good.db");
    makeDb(good, Array.from({ length: 2000 }, (_, i) => `row ${i} `.repeat(20)));
    const bytes = readFileSync(good);
    bytes.fill(0xff, 4096 * 2, 4096 * 3); // page 3: a b-tree page turned to garbage
    const before = readFileSync(live);
    const error = await rejection(restoreInto(source.target!(), [bytes]));
    expect(error.code).toBe("CORRUPT_DATA");
    expect(error.message).toMatch(/integrity_check/);
    expectUntouched(before);
  });

  it("with integrityCheck: false, checks the header only", async () => {
    const good = join(dir, "good.db");
    makeDb(good, ["new"]);
    const bytes = readFileSync(good);
    bytes.fill(0xff, 4096, 8192);
    await restoreInto(sqliteSource({ path: live, integrityCheck: false }).target!(), [bytes]);
    expect(readFileSync(live).equals(bytes)).toBe(true);
  });

  it("replaces the database and moves a stale WAL aside, which would otherwise change the restored content", async () => {
    // A crashed host: its last commits are still in the WAL, never checkpointed.
    const crashed = join(dir, "crashed");
    const host = new Database(live);
    host.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0");
    host.prepare("INSERT INTO t VALUES (?)").run("uncheckpointed");
    for (const suffix of ["", "-wal", "-shm"]) copyFileSync(live + suffix, crashed + suffix);
    host.close();
    for (const suffix of ["", "-wal", "-shm"]) copyFileSync(crashed + suffix, live + suffix);

    const backup = join(dir, "backup.db");
    makeDb(backup, ["restored 1", "restored 2", "restored 3"]);
    const bytes = readFileSync(backup);
    const restored = [{ v: "restored 1" }, { v: "restored 2" }, { v: "restored 3" }];

    // What a plain copy over the file does: the stale WAL is replayed into the restored database.
    const naive = join(dir, "naive.db");
    for (const suffix of ["-wal", "-shm"]) copyFileSync(crashed + suffix, naive + suffix);
    writeFileSync(naive, bytes);
    expect(rowsOf(naive)).not.toEqual(restored);

    await restoreInto(sqliteSource({ path: live }).target!(), [bytes]);
    expect(existsSync(`${live}-wal`)).toBe(false);
    expect(existsSync(`${live}-shm`)).toBe(false);
    const aside = readdirSync(dir).filter((f) => f.startsWith("live.db-") && f.includes(".pre-restore-"));
    expect(aside.sort()).toEqual([expect.stringMatching(/^live\.db-shm\.pre-restore-/), expect.stringMatching(/^live\.db-wal\.pre-restore-/)]);
    expect(rowsOf(live)).toEqual(restored);
    expect(readdirSync(dir).filter((f) => f.includes(".restore-"))).toEqual([]);
  });
});
