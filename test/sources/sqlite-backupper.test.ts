/**
 * End to end through createBackupper and the memory adapter: a backup of a database another
 * process is writing, restored next to it and then over it.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { createBackupper } from "../../src/index.js";
import { listAll } from "../../src/testing.js";
import { sqliteSource } from "../../src/sqlite.js";
import { Database, expectConsistentPrefix, snapshotTemps, startWriter, violatingDatabase } from "../fixtures/sqlite-live.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "backupper-sqlite-e2e-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it("backs up a live database and restores a consistent prefix of its writes, beside it and over it", async () => {
  const path = join(dir, "queue.db");
  const writer = await startWriter([process.execPath], "better-sqlite3", path);
  const db = new Database(path);
  const backupper = createBackupper({ adapter: memoryAdapter(), source: sqliteSource({ db, path }), retention: 3 });
  try {
    const info = await backupper.backup();
    expect(info.key).toMatch(/^backups\/queue-.*\.db\.gz$/);
    const final = await writer.stop();

    const copy = join(dir, "copy.db");
    const beside = await backupper.restore(info.key, { to: copy });
    const n = expectConsistentPrefix(copy);
    expect(final).toBeGreaterThan(n);
    expect(beside.size).toBe(statSync(copy).size);
    expect(beside.size).toBe(info.size);

    // Over the live file: the host closes its connection first (see sqliteSource's doc).
    db.close();
    await backupper.restore(info.key, { force: true });
    expect(expectConsistentPrefix(path)).toBe(n);
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(snapshotTemps(dir)).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.includes(".restore-") && !f.includes(".pre-restore-"))).toEqual([]);
  } finally {
    if (db.open) db.close();
    await writer.stop();
  }
});

for (const via of ["its own connection (the check on a worker thread, while the upload runs)", "the caller's handle (the check before the upload)"] as const) {
  it(`fails a backup whose snapshot fails quick_check and leaves nothing in storage or beside the database, through ${via}`, async () => {
    const path = join(dir, "bad.db");
    violatingDatabase(path);
    const db = via.startsWith("the caller's") ? new Database(path, { readonly: true }) : undefined;
    const adapter = memoryAdapter();
    const backupper = createBackupper({ adapter, source: sqliteSource(db ? { db, path } : { path }), retention: 3 });
    try {
      const error = await backupper.backup().then(() => undefined, (e: unknown) => e as { code?: string; message?: string });
      expect(error?.code).toBe("SOURCE");
      expect(error?.message).toContain(`snapshot of ${path} fails PRAGMA quick_check: NULL value in t.v`);
      expect(await listAll(adapter, "")).toEqual([]);
      expect(await backupper.list()).toEqual([]);
      expect(snapshotTemps(dir)).toEqual([]);
    } finally {
      db?.close();
    }
  });
}

it("hands over the snapshot while its check runs on a worker thread, and fails its stream with the worker's quick_check failure", async () => {
  const path = join(dir, "bad.db");
  violatingDatabase(path);
  // The snapshot is handed over while the check runs, so the failure arrives on the stream, not from snapshot().
  const snapshot = await sqliteSource({ path }).snapshot({});
  try {
    const reader = snapshot.stream.getReader();
    const failure = await (async () => {
      for (;;) if ((await reader.read()).done) return undefined;
    })().catch((e: unknown) => e as Error);
    expect(failure?.message).toMatch(/fails PRAGMA quick_check: NULL value in t\.v/);
  } finally {
    await snapshot.release?.();
  }
  expect(snapshotTemps(dir)).toEqual([]);
});
