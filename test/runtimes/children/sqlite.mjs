// The runtime matrix's SQLite check: a live WAL database (its newest rows only in the WAL,
// a writer inserting on the same handle while the backup uploads) → sqliteSource through the
// host's handle → S3 → restore to a new file → PRAGMA integrity_check and a gap-free prefix.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBackupper } from "backupper";
import { s3Adapter } from "backupper/s3";
import { sqliteSource } from "backupper/sqlite";

const ROWS = 20_000;

/** This runtime's SQLite driver: bun:sqlite, node:sqlite (Node >= 22.5, Deno), else better-sqlite3. */
async function openDriver() {
  if (globalThis.Bun) {
    const { Database } = await import("bun:sqlite");
    return { driver: "bun:sqlite", open: (path) => new Database(path) };
  }
  try {
    const { DatabaseSync } = await import("node:sqlite");
    return { driver: "node:sqlite", open: (path) => new DatabaseSync(path) };
  } catch {
    const { default: Database } = await import("better-sqlite3");
    return { driver: "better-sqlite3", open: (path) => new Database(path) };
  }
}

const payload = (id) => `job-${id}-${"x".repeat(id % 200)}`;

/** Rows 1..n with their expected payloads and nothing else, or -1. */
function consistentPrefix(db) {
  const { n, max, bad } = db
    .prepare("SELECT count(*) AS n, max(id) AS max, sum(payload <> 'job-' || id || '-' || substr(?, 1, id % 200)) AS bad FROM jobs")
    .get("x".repeat(200));
  return n === max && bad === 0 ? n : -1;
}

export async function sqliteRoundTrip(s3Options) {
  const { driver, open } = await openDriver();
  const dir = mkdtempSync(join(tmpdir(), "backupper-matrix-"));
  const live = join(dir, "queue.db");
  const db = open(live);
  let writer;
  try {
    db.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0");
    db.exec("CREATE TABLE jobs (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)");
    const insert = db.prepare("INSERT INTO jobs (id, payload) VALUES (?, ?)");
    let next = 1;
    const write = () => insert.run(next, payload(next++));
    db.exec("BEGIN");
    while (next <= ROWS) write();
    db.exec("COMMIT");
    writer = setInterval(() => {
      for (let i = 0; i < 50; i++) write();
    }, 1);

    const backupper = createBackupper({ adapter: s3Adapter(s3Options), source: sqliteSource({ db, path: live }) });
    const info = await backupper.backup();
    clearInterval(writer);
    const restoredPath = join(dir, "restored.db");
    await backupper.restore(info.key, { to: restoredPath });

    const restored = open(restoredPath);
    try {
      return {
        driver,
        integrity: restored.prepare("PRAGMA integrity_check").get().integrity_check,
        restoredRows: consistentPrefix(restored),
        rowsBeforeBackup: ROWS,
        rowsAtEnd: next - 1,
      };
    } finally {
      restored.close();
    }
  } finally {
    clearInterval(writer);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
