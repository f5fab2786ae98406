/**
 * One writer per source (`lease`), on the memory and fs adapters: two backuppers sharing one
 * storage never both back up, an expired lease is taken over, a renewed one never is, a lost one
 * aborts the backup before its commit marker, and retention never touches the lease object. The
 * two-process version against Ceph RGW is test/cli/lease-rgw.test.ts.
 */
import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { bytesSource, createBackupper, LeaseHeldError, streamSource, type StorageAdapter } from "../../src/index.js";
import { BackupError, ConfigError } from "../../src/errors.js";
import { fsAdapter } from "../../src/fs.js";
import { encodeLease, parseLease, type LeaseRecord } from "../../src/lease/record.js";
import { listKeys, readObject } from "../helpers/fixtures.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "backupper-lease-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LEASE = "backups/db.lease";

/** A source that takes `ms` to read: a backup long enough to overlap another, or to need renewals. */
function slowSource(ms: number, chunks = 10) {
  return streamSource(() => {
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        await sleep(ms / chunks);
        if (sent++ === chunks) controller.close();
        else controller.enqueue(new Uint8Array(1024).fill(sent));
      },
    });
  }, { name: "db" });
}

async function rejection(p: Promise<unknown>): Promise<BackupError> {
  const settled = await p.then(() => undefined, (error: unknown) => error);
  expect(BackupError.is(settled), `expected a BackupError, got ${String(settled)}`).toBe(true);
  return settled as BackupError;
}

async function leaseOf(adapter: StorageAdapter): Promise<LeaseRecord | undefined> {
  return parseLease(await readObject(adapter, LEASE));
}

const adapters: Array<[string, () => StorageAdapter]> = [
  ["memory", () => memoryAdapter()],
  ["fs", () => fsAdapter({ root: join(dir, "store") })],
];

describe.each(adapters)("lease on %s", (_label, makeAdapter) => {
  it("of two backuppers starting together, exactly one backs up; the other rejects with LEASE_HELD and writes nothing", async () => {
    const adapter = makeAdapter();
    const a = createBackupper({ adapter, source: slowSource(300), lease: true });
    const b = createBackupper({ adapter, source: slowSource(300), lease: true });
    const events: string[] = [];
    for (const [label, x] of [["a", a], ["b", b]] as const) {
      x.on("started", () => events.push(`${label} started`));
      x.on("failed", () => events.push(`${label} failed`));
    }
    const results = await Promise.allSettled([a.backup(), b.backup()]);
    const done = results.filter((r) => r.status === "fulfilled");
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as BackupError] : []));
    expect(done).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(LeaseHeldError);
    expect(refused[0]!.code).toBe("LEASE_HELD");
    expect((refused[0] as LeaseHeldError).lost).toBe(false);
    expect(refused[0]!.message).toContain("until");
    // The refused one did nothing a listener or a status would count as a backup or a failure.
    expect(events).toHaveLength(1);
    expect((await a.list()).length).toBe(1);
    const refusedOne = done[0] === results[0] ? b : a;
    expect(refusedOne.status().lastFailure).toBeUndefined();
  });

  it("releases the lease at the end (written back expired, never deleted), so the next backup takes it at once", async () => {
    const adapter = makeAdapter();
    const a = createBackupper({ adapter, source: bytesSource(new Uint8Array(10), { name: "db" }), lease: { ttl: 60_000 } });
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array(10), { name: "db" }), lease: { ttl: 60_000 } });
    await a.backup();
    const released = await leaseOf(adapter);
    expect(released?.released).toBeDefined();
    expect(Date.parse(released!.expires)).toBeLessThanOrEqual(Date.now());
    await b.backup();
    const again = await leaseOf(adapter);
    expect(again?.holder).not.toBe(released?.holder);
    expect((await a.list()).length).toBe(2);
  });

  it("holds no secret: holder id, host, pid and times", async () => {
    const adapter = makeAdapter();
    const source = slowSource(200);
    const b = createBackupper({ adapter, source, lease: true, encryption: { passphrase: "correct horse battery staple" } });
    const running = b.backup();
    await sleep(50);
    const text = new TextDecoder().decode(await readObject(adapter, LEASE));
    await running;
    const record = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(record).sort()).toEqual(["acquired", "expires", "format", "holder", "host", "name", "pid", "renewed"]);
    expect(record).toMatchObject({ format: "backupper-lease/1", name: "db", pid: process.pid });
    expect(text).not.toContain("horse");
  });

  it("takes over a lease whose holder let it expire (a crashed process), and refuses one that has not", async () => {
    const adapter = makeAdapter();
    const stale: LeaseRecord = { format: "backupper-lease/1", name: "db", holder: "dead", acquired: "2026-01-01T00:00:00.000Z", renewed: "2026-01-01T00:00:00.000Z", expires: new Date(Date.now() + 400).toISOString() };
    await adapter.put(LEASE, encodeLease(stale));
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array(10), { name: "db" }), lease: true });
    const held = await rejection(b.backup());
    expect(held.code).toBe("LEASE_HELD");
    await sleep(500);
    await b.backup();
    expect((await b.list()).length).toBe(1);
  });

  it("never lets a lease be taken while its holder renews it (ttl 1 s, a 3.5 s backup, a rival trying every 100 ms)", async () => {
    const adapter = makeAdapter();
    const holder = createBackupper({ adapter, source: slowSource(3500, 35), lease: { ttl: 1000 } });
    const rival = createBackupper({ adapter, source: bytesSource(new Uint8Array(10), { name: "db" }), lease: { ttl: 1000 } });
    const running = holder.backup();
    await sleep(50);
    const refusals: string[] = [];
    let settled = false;
    void running.finally(() => (settled = true));
    while (!settled) {
      const outcome = await rival.backup().then(() => "BACKED UP", (e: BackupError) => e.code);
      if (!settled) refusals.push(outcome);
      await sleep(100);
    }
    const info = await running;
    // Only attempts answered while the holder ran count: one that got the released lease after it is right to back up.
    expect(refusals.length).toBeGreaterThan(20);
    expect(new Set(refusals)).toEqual(new Set(["LEASE_HELD"]));
    expect((await holder.list()).map((b) => b.key)).toContain(info.key);
  });

  it("a backup whose lease is taken over midway fails with LEASE_HELD (lost) and leaves nothing listed, and the taker's lease is left alone", async () => {
    const adapter = makeAdapter();
    const b = createBackupper({ adapter, source: slowSource(1500, 15), lease: { ttl: 1000 } });
    const failed: BackupError[] = [];
    b.on("failed", (e) => failed.push(e.error));
    const running = b.backup();
    await sleep(100);
    // Another process's write, as a takeover after a stall would leave it.
    const taker: LeaseRecord = { format: "backupper-lease/1", name: "db", holder: "taker", acquired: new Date().toISOString(), renewed: new Date().toISOString(), expires: new Date(Date.now() + 60_000).toISOString() };
    await adapter.put(LEASE, encodeLease(taker));
    const error = await rejection(running);
    expect(error).toBeInstanceOf(LeaseHeldError);
    expect((error as LeaseHeldError).lost).toBe(true);
    expect(failed.map((e) => e.code)).toEqual(["LEASE_HELD"]);
    expect(await b.list()).toEqual([]);
    expect((await listKeys(adapter)).filter((k) => k !== LEASE)).toEqual([]);
    expect((await leaseOf(adapter))?.holder).toBe("taker");
  });

  it("a scheduled run that finds the lease held is skipped with reason lease-held, not a failure", async () => {
    const adapter = makeAdapter();
    const holder = createBackupper({ adapter, source: slowSource(600), lease: true });
    const scheduled = createBackupper({ adapter, source: bytesSource(new Uint8Array(10), { name: "db" }), lease: true, initialDelay: 50, interval: 3_600_000 });
    const skipped: unknown[] = [];
    const failed: unknown[] = [];
    scheduled.on("skipped", (e) => skipped.push(e));
    scheduled.on("failed", (e) => failed.push(e));
    const running = holder.backup();
    scheduled.start();
    await sleep(300);
    // Not retried like a failure (after a minute): the next run is the regular one, an interval on.
    expect(scheduled.status().nextRun!.getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);
    await scheduled.stop();
    await running;
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ reason: "lease-held", error: { code: "LEASE_HELD" } });
    expect(failed).toEqual([]);
    expect(scheduled.status().lastFailure).toBeUndefined();
  });

  it("retention never deletes the lease object, also after the incomplete-object grace period", async () => {
    const adapter = makeAdapter();
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array(10), { name: "db" }), lease: true, retention: 1, incompleteGrace: 0 });
    await b.backup();
    await b.backup();
    const report = await b.prune();
    expect(report.incomplete).toEqual([]);
    expect(await listKeys(adapter)).toContain(LEASE);
    expect((await b.list()).length).toBe(1);
  });
});

describe("lease options", () => {
  it("lease on an adapter without conditional puts is a ConfigError naming the option and the adapter", () => {
    const { putIf: _none, ...plain } = memoryAdapter();
    const adapter: StorageAdapter = { ...plain, name: "plain" };
    const create = () => createBackupper({ adapter, source: bytesSource(new Uint8Array(1)), lease: true });
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(/^lease: .*plain adapter/);
    expect(() => createBackupper({ adapter, source: bytesSource(new Uint8Array(1)), lease: false })).not.toThrow();
  });

  it.each([[{ ttl: 10 }, "lease.ttl"], [{ ttl: "1m" }, "lease.ttl"], ["yes", "lease"]])("refuses lease %j naming %s", (lease, option) => {
    const create = () => createBackupper({ adapter: memoryAdapter(), source: bytesSource(new Uint8Array(1)), lease: lease as never });
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(new RegExp(`^${option.replace(".", "\\.")}: `));
  });

  it("a conditional put whose answer was lost (written, reported as a failed condition) still takes the lease", async () => {
    const inner = memoryAdapter();
    let dropped = 0;
    const adapter: StorageAdapter = {
      ...inner,
      async putIf(key, body, condition, opts) {
        const result = await inner.putIf!(key, body, condition, opts);
        // The first write lands, but its retried request meets the object it created: 412.
        if (result.written && dropped++ === 0) return { written: false };
        return result;
      },
    };
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array(10), { name: "db" }), lease: true });
    await b.backup();
    expect(dropped).toBeGreaterThan(0);
    expect((await b.list()).length).toBe(1);
  });
});

describe("fs conditional put", () => {
  it("keeps its lock file out of listings and refuses it as a key", async () => {
    const adapter = fsAdapter({ root: join(dir, "store") });
    await adapter.putIf!("a/lease", new TextEncoder().encode("x"), { ifNoneMatch: "*" });
    expect(await listKeys(adapter)).toEqual(["a/lease"]);
    await expect(adapter.put("a/.lease.lock", new Uint8Array(1))).rejects.toThrow(/reserved/);
  });

  it("breaks a lock left by a process killed inside the compare-and-rename, once it is stale", async () => {
    const root = join(dir, "store");
    const adapter = fsAdapter({ root });
    const first = await adapter.putIf!("lease", new TextEncoder().encode("one"), { ifNoneMatch: "*" });
    if (!first.written) throw new Error("not written");
    const lock = join(root, ".lease.lock");
    await writeFile(lock, "");
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    const second = await adapter.putIf!("lease", new TextEncoder().encode("two"), { ifMatch: first.etag });
    expect(second.written).toBe(true);
    expect(await readdir(root)).toEqual(["lease"]);
  });

  it("waits for a fresh lock rather than breaking it", async () => {
    const root = join(dir, "store");
    const adapter = fsAdapter({ root });
    await adapter.putIf!("lease", new TextEncoder().encode("one"), { ifNoneMatch: "*" });
    const lock = join(root, ".lease.lock");
    await writeFile(lock, "");
    let finished = false;
    const put = adapter.putIf!("lease", new TextEncoder().encode("two"), { ifNoneMatch: "*" }).finally(() => (finished = true));
    await sleep(200);
    expect(finished).toBe(false);
    await rm(lock);
    expect(await put).toEqual({ written: false });
  });
});
