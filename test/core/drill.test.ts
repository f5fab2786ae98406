/**
 * `drill()` on the fs adapter with a real SQLite database (better-sqlite3 on Node 20): a good
 * backup passes every check; a backup whose stored bytes were altered, and one that decompresses
 * fine but fails `PRAGMA integrity_check`, fail typed, with a `failed` event, leaving the
 * source byte-identical and no scratch copy behind. The RGW half is test/core/drill-rgw.test.ts.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fsAdapter } from "../../src/fs.js";
import { BackupError, bytesSource, ChecksumMismatchError, ConfigError, CorruptDataError, createBackupper, NotFoundError } from "../../src/index.js";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { sqliteSource } from "../../src/sqlite.js";
import { drillScratch } from "../../src/sources/drill-scratch.js";
import type { BackupEvents } from "../../src/events.js";
import type { StorageAdapter } from "../../src/types.js";
import { gatedSource, randomBytes, sha256 } from "../helpers/data.js";
import { readObject } from "../helpers/fixtures.js";
import { DAY, in2099, plantBackup, plantJunk } from "../helpers/planted.js";
import { Database } from "../fixtures/sqlite-live.js";

let dir: string;
let db: string;
let adapter: StorageAdapter;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "backupper-drill-"));
  db = join(dir, "queue.db");
  mkdirSync(join(dir, "bucket"));
  adapter = fsAdapter({ root: join(dir, "bucket") });
  makeDb(db, 500);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function makeDb(path: string, rows: number): void {
  const d = new Database(path);
  d.exec("CREATE TABLE jobs (id INTEGER PRIMARY KEY, body TEXT); CREATE INDEX jobs_body ON jobs (body)");
  const insert = d.prepare("INSERT INTO jobs (body) VALUES (?)");
  for (let i = 0; i < rows; i++) insert.run(`job ${i} `.repeat(20));
  d.close();
}

/** Everything a failed drill must leave as it was: the database's bytes, and no drill directory or restore temp anywhere near it. */
function sourceState(): { bytes: string; entries: string[] } {
  return { bytes: sha256(readFileSync(db)), entries: readdirSync(dir).sort() };
}

function recordEvents(b: ReturnType<typeof createBackupper>) {
  const failed: BackupEvents["failed"][] = [];
  const drilled: BackupEvents["drilled"][] = [];
  b.on("failed", (e) => failed.push(e));
  b.on("drilled", (e) => drilled.push(e));
  return { failed, drilled };
}

async function flipStoredByte(key: string): Promise<void> {
  const bytes = await readObject(adapter, key);
  bytes[bytes.length >> 1]! ^= 0x01;
  await adapter.put(key, bytes);
}

describe("drill on the fs adapter, SQLite source", () => {
  it("passes for a good backup: verify, header, integrity_check and the drillQuery's result, then removes its copy", async () => {
    const b = createBackupper({ adapter, source: sqliteSource({ path: db, drillQuery: "SELECT count(*) AS n FROM jobs" }) });
    const events = recordEvents(b);
    const info = await b.backup();
    const before = sourceState();
    const result = await b.drill();
    expect(result).toMatchObject({ key: info.key, ok: true, size: info.size });
    expect(result.error).toBeUndefined();
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ["verify", true],
      ["header", true],
      ["integrity_check", true],
      ["query", true],
    ]);
    expect(result.checks[3]).toMatchObject({ value: 500, detail: "SELECT count(*) AS n FROM jobs = 500" });
    expect(events.drilled).toEqual([result]);
    expect(events.failed).toEqual([]);
    expect(b.status().lastDrill).toMatchObject({ key: info.key, ok: true, error: undefined });
    expect(sourceState()).toEqual(before);
  });

  it.each([
    // Stored raw, a flipped byte reaches the end of the stream: the stored SHA-256 disagrees.
    ["none", ChecksumMismatchError, "CHECKSUM_MISMATCH"],
    // Inside a gzip stream the same flip breaks the deflate data or its CRC first.
    ["gzip", CorruptDataError, "CORRUPT_DATA"],
  ] as const)("compression %s: fails typed for a backup whose stored bytes were altered after upload; the source is untouched", async (compression, type, code) => {
    const b = createBackupper({ adapter, source: sqliteSource({ path: db }), compression });
    const events = recordEvents(b);
    const info = await b.backup();
    await flipStoredByte(info.key);
    const before = sourceState();
    const result = await b.drill({ key: info.key });
    expect(result).toMatchObject({ key: info.key, ok: false, size: undefined });
    expect(result.error).toBeInstanceOf(type);
    expect(result.error).toMatchObject({ code });
    expect(result.checks).toEqual([{ name: "verify", ok: false, detail: result.error!.message }]);
    expect(events.failed).toEqual([{ operation: "drill", key: info.key, error: result.error, scheduled: false }]);
    expect(events.drilled).toEqual([]);
    expect(b.status().lastDrill).toMatchObject({ ok: false, key: info.key, error: { code } });
    expect(b.status().failures).toEqual([{ operation: "drill", code, count: 1 }]);
    expect(sourceState()).toEqual(before);
  });

  it("fails with CorruptDataError for a SQLite backup that decompresses and verifies fine but fails integrity_check", async () => {
    const corrupt = readFileSync(db);
    corrupt.fill(0xff, 4096 * 2, 4096 * 3); // page 3, a b-tree page, turned to garbage; the header stays sound
    // Stored as plain bytes, so its checksums match: only a check of the content can tell.
    const planted = await createBackupper({ adapter, source: bytesSource(corrupt, { name: "queue" }) }).backup();
    const b = createBackupper({ adapter, source: sqliteSource({ path: db, drillQuery: "SELECT count(*) FROM jobs" }) });
    const events = recordEvents(b);
    const before = sourceState();
    const result = await b.drill({ key: planted.key });
    expect(result.ok).toBe(false);
    expect(result.error).toBeInstanceOf(CorruptDataError);
    expect(result.error!.message).toMatch(/integrity_check/);
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ["verify", true],
      ["header", true],
      ["integrity_check", false],
    ]);
    expect(result.size).toBe(corrupt.length);
    expect(events.failed).toMatchObject([{ operation: "drill", key: planted.key, error: { code: "CORRUPT_DATA" } }]);
    expect(sourceState()).toEqual(before);
  });

  it("fails for a backup that is not a SQLite database at all, and for a drillQuery that does not run", async () => {
    const notDb = await createBackupper({ adapter, source: bytesSource(randomBytes(10_000), { name: "queue" }) }).backup();
    const b = createBackupper({ adapter, source: sqliteSource({ path: db, drillQuery: "SELECT count(*) FROM no_such_table" }) });
    const header = await b.drill({ key: notDb.key });
    expect(header.checks.map((c) => [c.name, c.ok])).toEqual([["verify", true], ["header", false]]);
    expect(header.error).toMatchObject({ code: "CORRUPT_DATA" });

    const good = await b.backup();
    const query = await b.drill({ key: good.key });
    expect(query.ok).toBe(false);
    expect(query.checks.at(-1)).toMatchObject({ name: "query", ok: false });
    expect(query.checks.at(-1)!.detail).toMatch(/no such table/);
    expect(query.error!.message).toMatch(/drill check query failed/);
  });

  it("rejects, typed, with a failed event, when there is no backup to drill or the key is unknown", async () => {
    const b = createBackupper({ adapter, source: sqliteSource({ path: db }) });
    const events = recordEvents(b);
    const none = await b.drill().catch((e: unknown) => e);
    expect(none).toBeInstanceOf(NotFoundError);
    expect((none as Error).message).toMatch(/no verified backup of "queue"/);
    const missing = await b.drill({ key: "backups/queue-2020-01-01T00-00-00-000Z-abcdef12.db.gz" }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: "NOT_FOUND" });
    expect(events.failed.map((e) => [e.operation, e.key, e.error.code])).toEqual([
      ["drill", undefined, "NOT_FOUND"],
      ["drill", "backups/queue-2020-01-01T00-00-00-000Z-abcdef12.db.gz", "NOT_FOUND"],
    ]);
    expect(b.status().lastDrill).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    expect(readdirSync(dir).filter((f) => f.startsWith(".backupper-drill-"))).toEqual([]);
  });

  it("rejects with AbortedError when aborted, and removes its copy", async () => {
    const b = createBackupper({ adapter, source: sqliteSource({ path: db }) });
    await b.backup();
    const controller = new AbortController();
    b.on("progress", (e) => {
      if (e.operation === "restore") controller.abort(new Error("enough"));
    });
    await expect(b.drill({ signal: controller.signal })).rejects.toMatchObject({ code: "ABORTED" });
    expect(readdirSync(dir).filter((f) => f.startsWith(".backupper-drill-"))).toEqual([]);
  });
});

describe("drill's scratch place", () => {
  it("is a 0700 directory holding one 0600 file whatever mode the backup recorded, removed by dispose", async () => {
    const scratch = await drillScratch(dir, async (file) => [{ name: "seen", ok: true, detail: file }]);
    const staging = await scratch.target.begin({ force: true, mode: 0o644 });
    await staging.write(new TextEncoder().encode("restored bytes"));
    await staging.commit();
    const [check] = await scratch.check();
    const file = check!.detail;
    expect(file.startsWith(join(dir, ".backupper-drill-"))).toBe(true);
    expect(statSync(join(file, "..")).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toBe("restored bytes");
    await scratch.dispose();
    expect(readdirSync(dir).filter((f) => f.startsWith(".backupper-drill-"))).toEqual([]);
  });

  it("cannot be made in a directory that does not exist: a TargetError naming it", async () => {
    await expect(drillScratch(join(dir, "missing"), async () => [])).rejects.toMatchObject({ code: "TARGET" });
  });
});

describe("drill picks", () => {
  it("latest: the newest verified backup; random: any verified one, never a key dated in the future or one without metadata", async () => {
    const memory = memoryAdapter();
    const now = Date.now();
    const oldest = await plantBackup(memory, "q", new Date(now - 3 * DAY));
    const newest = await plantBackup(memory, "q", new Date(now - DAY));
    await plantJunk(memory, "q", new Date(now - 2 * DAY));
    await plantJunk(memory, "q", new Date(now - DAY / 2));
    await plantBackup(memory, "q", in2099(1)[0]!);
    const b = createBackupper({ adapter: memory, source: bytesSource(new Uint8Array(), { name: "q" }) });
    expect((await b.drill()).key).toBe(newest);
    const random = vi.spyOn(Math, "random");
    try {
      random.mockReturnValue(0);
      expect((await b.drill({ pick: "random" })).key).toBe(newest);
      random.mockReturnValue(0.9999);
      expect((await b.drill({ pick: "random" })).key).toBe(oldest);
    } finally {
      random.mockRestore();
    }
  });

  it("without a scratch place of the source (bytesSource), verifies the backup: one verify check", async () => {
    const b = createBackupper({ adapter: memoryAdapter(), source: bytesSource(randomBytes(5000), { name: "q" }) });
    const info = await b.backup();
    const result = await b.drill();
    expect(result).toMatchObject({ key: info.key, ok: true, size: 5000 });
    expect(result.checks).toEqual([{ name: "verify", ok: true, detail: `5000 bytes, sha256 ${info.checksum}` }]);
  });
});

describe("drills and backups never overlap", () => {
  it("a drill asked for while a backup runs waits until it (and its retention) has ended, then drills the new backup", async () => {
    const memory = memoryAdapter();
    const { source, release } = gatedSource();
    const b = createBackupper({ adapter: memory, source });
    const order: string[] = [];
    b.on("pruned", () => order.push("pruned"));
    b.on("drilled", () => order.push("drilled"));
    const backup = b.backup();
    const drill = b.drill();
    let drillSettled = false;
    void drill.finally(() => (drillSettled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(drillSettled).toBe(false);
    release();
    const info = await backup;
    expect((await drill).key).toBe(info.key);
    expect(order).toEqual(["pruned", "drilled"]);
  });

  it("a backup asked for while a drill runs waits for it; a second backup meanwhile is still BackupInProgressError", async () => {
    const memory = memoryAdapter();
    const first = createBackupper({ adapter: memory, source: bytesSource(randomBytes(1000), { name: "gated" }) });
    await first.backup();
    let releaseRead!: () => void;
    const gate = new Promise<void>((r) => (releaseRead = r));
    const slow: StorageAdapter = {
      ...memory,
      async get(key, opts) {
        await gate;
        return memory.get(key, opts);
      },
    };
    const b = createBackupper({ adapter: slow, source: bytesSource(randomBytes(1000), { name: "gated" }) });
    const order: string[] = [];
    b.on("started", () => order.push("backup started"));
    b.on("drilled", () => order.push("drilled"));
    const drill = b.drill();
    await new Promise((r) => setTimeout(r, 20));
    const backup = b.backup();
    await expect(b.backup()).rejects.toMatchObject({ code: "IN_PROGRESS" });
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]);
    releaseRead();
    await Promise.all([drill, backup]);
    expect(order).toEqual(["drilled", "backup started"]);
  });

  it("stop({ abort: true }) aborts a drill in flight; stop() waits for it", async () => {
    const memory = memoryAdapter();
    await createBackupper({ adapter: memory, source: bytesSource(randomBytes(1000), { name: "q" }) }).backup();
    const stuck: StorageAdapter = {
      ...memory,
      get: (_key, opts) => new Promise((_, reject) => opts?.signal?.addEventListener("abort", () => reject(opts.signal!.reason))),
    };
    const b = createBackupper({ adapter: stuck, source: bytesSource(new Uint8Array(), { name: "q" }) });
    const drill = b.drill();
    await new Promise((r) => setTimeout(r, 20));
    await b.stop({ abort: true });
    await expect(drill).rejects.toMatchObject({ code: "ABORTED" });
    expect(b.status().lastDrill).toMatchObject({ ok: false, error: { code: "ABORTED" } });
  });

  it("drillInterval schedules drills after the first backup, one every interval, until stopped", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    try {
      const b = createBackupper({ adapter: memoryAdapter(), source: bytesSource(randomBytes(100), { name: "q" }), drillInterval: 3_600_000 });
      const order: string[] = [];
      b.on("succeeded", () => order.push("backup"));
      b.on("drilled", (r) => order.push(r.ok ? "drill ok" : "drill failed"));
      b.on("failed", (e) => order.push(`${e.operation} failed`));
      b.start();
      await vi.advanceTimersByTimeAsync(60_000);
      await vi.waitFor(() => expect(order).toEqual(["backup", "drill ok"]));
      await vi.advanceTimersByTimeAsync(3_600_000);
      await vi.waitFor(() => expect(order).toEqual(["backup", "drill ok", "drill ok"]));
      expect(b.status().lastDrill).toMatchObject({ ok: true });
      await b.stop();
      await vi.advanceTimersByTimeAsync(10 * 3_600_000);
      expect(order).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("drill options", () => {
  it("are checked at creation, naming the option", () => {
    const source = bytesSource(new Uint8Array(), { name: "q" });
    const make = (extra: object) => () => createBackupper({ adapter: memoryAdapter(), source, ...extra });
    expect(make({ drillInterval: 0 })).toThrow(ConfigError);
    expect(make({ drillInterval: "1d" })).toThrow(/^drillInterval: /);
    expect(make({ drillPick: "oldest" })).toThrow(/^drillPick: must be one of "latest", "random"/);
    expect(() => sqliteSource({ path: db, drillQuery: " " })).toThrow(/^drillQuery: /);
    expect(() => sqliteSource({ path: db, drillQuery: 42 as unknown as string })).toThrow(BackupError);
    expect(make({ source: { ...source, drill: "yes" } })).toThrow(/^source\.drill: /);
  });

  it("a bad call rejects with a ConfigError before any drill, without an event", async () => {
    const b = createBackupper({ adapter: memoryAdapter(), source: bytesSource(new Uint8Array(), { name: "q" }) });
    const events = recordEvents(b);
    await expect(b.drill({ pick: "oldest" as "latest" })).rejects.toThrow(/^pick: must be "latest" or "random"/);
    await expect(b.drill({ key: "backups/q-x.db.gz", pick: "random" })).rejects.toThrow(/^pick: give a key or a pick, not both/);
    expect(events.failed).toEqual([]);
    expect(b.status().lastDrill).toBeUndefined();
  });
});
