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
import { sqliteSource } from "../../src/sqlite.js";
import { Database, expectConsistentPrefix, snapshotTemps, startWriter } from "../fixtures/sqlite-live.js";

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
