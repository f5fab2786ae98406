/**
 * `drill()` against the real Ceph RGW (started by the global setup), with a real SQLite source:
 * a good backup passes; one whose stored object was overwritten after upload, and one that
 * decompresses and verifies fine but fails `PRAGMA integrity_check`, fail typed with a `failed`
 * event, the source byte-identical and no scratch copy left. The fs half is drill.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { bytesSource, ChecksumMismatchError, CorruptDataError, createBackupper } from "../../src/index.js";
import { sqliteSource } from "../../src/sqlite.js";
import type { BackupEvents } from "../../src/events.js";
import { sha256 } from "../helpers/data.js";
import { readObject } from "../helpers/fixtures.js";
import { rgwDescribe, s3TestAdapter, type S3TestAdapter } from "../helpers/s3.js";
import { Database } from "../fixtures/sqlite-live.js";

const describeRgw = rgwDescribe("drill on Ceph RGW");

describeRgw("drill on Ceph RGW, SQLite source", () => {
  let t: S3TestAdapter;
  let dir: string;
  let db: string;
  beforeAll(async () => {
    t = await s3TestAdapter("rgw");
  });
  afterAll(async () => {
    await t?.cleanup();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "backupper-drill-rgw-"));
    db = join(dir, "queue.db");
    const d = new Database(db);
    d.exec("CREATE TABLE jobs (id INTEGER PRIMARY KEY, body TEXT); CREATE INDEX jobs_body ON jobs (body)");
    d.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO jobs (body) SELECT hex(randomblob(100)) FROM n");
    d.close();
    return () => rmSync(dir, { recursive: true, force: true });
  });

  const state = () => ({ bytes: sha256(readFileSync(db)), entries: readdirSync(dir).sort() });
  const failures = (b: ReturnType<typeof createBackupper>) => {
    const failed: BackupEvents["failed"][] = [];
    b.on("failed", (e) => failed.push(e));
    return failed;
  };

  it("passes for a good backup, reporting the drillQuery's result", async () => {
    const b = createBackupper({ adapter: t.adapter, prefix: "good/", source: sqliteSource({ path: db, drillQuery: "SELECT count(*) FROM jobs" }) });
    const info = await b.backup();
    const before = state();
    const result = await b.drill({ pick: "random" });
    expect(result).toMatchObject({ key: info.key, ok: true, size: info.size });
    expect(result.checks.map((c) => [c.name, c.ok, c.value])).toEqual([
      ["verify", true, undefined],
      ["header", true, undefined],
      ["integrity_check", true, undefined],
      ["query", true, 3000],
    ]);
    expect(state()).toEqual(before);
  });

  it("fails with ChecksumMismatchError for a stored object overwritten after upload (same length, one byte changed)", async () => {
    const b = createBackupper({ adapter: t.adapter, prefix: "altered/", compression: "none", source: sqliteSource({ path: db }) });
    const failed = failures(b);
    const info = await b.backup();
    const stored = await readObject(t.adapter, info.key);
    stored[stored.length >> 1]! ^= 0x20;
    await t.adapter.put(info.key, stored);
    const before = state();
    const result = await b.drill();
    expect(result.ok).toBe(false);
    expect(result.error).toBeInstanceOf(ChecksumMismatchError);
    expect(result.error).toMatchObject({ code: "CHECKSUM_MISMATCH", which: "stored" });
    expect(failed).toEqual([{ operation: "drill", key: info.key, error: result.error, scheduled: false }]);
    expect(state()).toEqual(before);
  });

  it("fails with CorruptDataError for a gzip backup of a database that fails integrity_check", async () => {
    const corrupt = readFileSync(db);
    corrupt.fill(0xff, 4096 * 2, 4096 * 3);
    const planted = await createBackupper({ adapter: t.adapter, prefix: "corrupt/", source: bytesSource(corrupt, { name: "queue" }) }).backup();
    const b = createBackupper({ adapter: t.adapter, prefix: "corrupt/", source: sqliteSource({ path: db }) });
    const failed = failures(b);
    const before = state();
    const result = await b.drill();
    expect(result.key).toBe(planted.key);
    expect(result.ok).toBe(false);
    expect(result.error).toBeInstanceOf(CorruptDataError);
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ["verify", true],
      ["header", true],
      ["integrity_check", false],
    ]);
    expect(failed).toMatchObject([{ operation: "drill", key: planted.key, error: { code: "CORRUPT_DATA" } }]);
    expect(state()).toEqual(before);
  });
});
