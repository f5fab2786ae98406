/**
 * One writer per source with the real bin against Ceph RGW: `backupper now --lease` started
 * twice at the same moment, 20 rounds, exactly one backup per round and the other process exits
 * 7; a process killed while it holds the lease blocks others until the ttl has passed, then its
 * lease is taken over; a lease is never taken while its holder renews it.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { s3Adapter } from "../../src/adapters/s3.js";
import { parseLease, type LeaseRecord } from "../../src/lease/record.js";
import type { StorageAdapter } from "../../src/types.js";
import { startBin } from "../helpers/bin.js";
import { randomBytes } from "../helpers/data.js";
import { adapterOptions, createBucket, rgwDescribe, s3Env, s3Server, type S3TestServer } from "../helpers/s3.js";

const CLI = resolve(__dirname, "../../dist/cli.js");
const START_AT = resolve(__dirname, "../fixtures/start-at.mjs");
const LEASE = "backups/queue.lease";

const describeRgw = rgwDescribe("lease on Ceph RGW");

let rgw: S3TestServer;
let work: string;
const outputs: string[] = [];

function start(env: Record<string, string>, extra: Record<string, string> = {}) {
  const { child, done } = startBin(process.execPath, ["--import", START_AT, CLI, "now", "--json"], { env: { ...env, ...extra } });
  return {
    child,
    done: done.then((result) => {
      outputs.push(result.stdout, result.stderr);
      return result;
    }),
  };
}

/** A fresh bucket and the bin's environment for it, backing up `source` under the name `queue` with a lease. */
async function destination(source: string, ttl?: string) {
  const bucket = await createBucket(rgw);
  const adapter = s3Adapter(adapterOptions(rgw, bucket));
  const env: Record<string, string> = {
    S3_BACKUP_ENABLED: "1",
    ...s3Env(rgw, bucket),
    BACKUP_SOURCE: source,
    BACKUP_NAME: "queue",
    BACKUP_LEASE: "1",
    S3_BACKUP_RETENTION: "100",
    ...(ttl ? { BACKUP_LEASE_TTL: ttl } : {}),
  };
  return { adapter, env };
}

async function backupsIn(adapter: StorageAdapter): Promise<string[]> {
  const keys: string[] = [];
  for await (const e of adapter.list("backups/")) if (e.key.endsWith(".meta.json")) keys.push(e.key);
  return keys;
}

async function leaseIn(adapter: StorageAdapter): Promise<LeaseRecord | undefined> {
  const got = await adapter.get(LEASE);
  return got ? parseLease(new Uint8Array(await new Response(got.body).arrayBuffer())) : undefined;
}

/** Waits until a process holds the lease (it exists and was not released), and returns it. */
async function heldLease(adapter: StorageAdapter, ms = 30_000): Promise<LeaseRecord> {
  const end = Date.now() + ms;
  for (;;) {
    const record = await leaseIn(adapter);
    if (record && record.released === undefined) return record;
    if (Date.now() > end) throw new Error("no process took the lease");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeRgw("lease: two processes on Ceph RGW", () => {
  let small: string;
  let large: string;
  beforeAll(async () => {
    rgw = await s3Server("rgw");
    work = await mkdtemp(join(tmpdir(), "backupper-lease-rgw-"));
    small = join(work, "small.bin");
    large = join(work, "large.bin");
    // Incompressible, so a backup takes a while: 4 MiB for the races, 96 MiB for a holder that must renew.
    await writeFile(small, randomBytes(4 << 20, 11));
    await writeFile(large, randomBytes(96 << 20, 12));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
    for (const text of outputs) expect(text).not.toContain(rgw.secretAccessKey);
  });

  it("20 rounds of two `backupper now --lease` started at the same moment: exactly one backup per round, the other exits 7", async () => {
    const { adapter, env } = await destination(small);
    const tally: string[] = [];
    for (let round = 1; round <= 20; round++) {
      const at = String(Date.now() + 600);
      const results = await Promise.all([start(env, { BACKUPPER_TEST_START_AT: at }).done, start(env, { BACKUPPER_TEST_START_AT: at }).done]);
      const codes = results.map((r) => r.code).sort();
      tally.push(codes.join("+"));
      expect(codes, `round ${round}: ${results.map((r) => r.stderr).join(" | ")}`).toEqual([0, 7]);
      const loser = results.find((r) => r.code === 7)!;
      expect(JSON.parse(loser.stdout)).toMatchObject({ ok: false, error: { code: "LEASE_HELD", exitCode: 7 } });
      expect(await backupsIn(adapter), `round ${round}`).toHaveLength(round);
    }
    console.log(`lease race rounds (exit codes): ${tally.join(", ")}`);
    expect((await leaseIn(adapter))?.released).toBeDefined();
  }, 300_000);

  it("a process killed holding the lease blocks others until its ttl has passed; then the lease is taken over", async () => {
    const { adapter, env } = await destination(large, "3s");
    const victim = start(env);
    const held = await heldLease(adapter);
    victim.child.kill("SIGKILL");
    expect((await victim.done).code).toBeNull();
    const blocked = await start(env).done;
    const expires = Date.parse((await leaseIn(adapter))!.expires);
    expect(blocked.code, blocked.stderr).toBe(7);
    expect(Date.now()).toBeLessThan(expires);
    expect(await backupsIn(adapter)).toEqual([]);
    await new Promise((r) => setTimeout(r, expires - Date.now() + 200));
    const taker = await start(env, { BACKUP_SOURCE: small }).done;
    expect(taker.code, taker.stderr).toBe(0);
    expect(await backupsIn(adapter)).toHaveLength(1);
    const after = await leaseIn(adapter);
    expect(after?.holder).not.toBe(held.holder);
  }, 120_000);

  it("a lease is never taken while its holder renews it: ttl 3s, a backup of several seconds, rivals all exit 7", async () => {
    const { adapter, env } = await destination(large, "3s");
    const holder = start(env);
    const held = await heldLease(adapter);
    let finished = false;
    void holder.done.then(() => (finished = true));
    const rivals: Array<number | null> = [];
    let renewed = 0;
    let lastRenewed = held.renewed;
    // A rival still running when the holder ends may take the released lease: that backup is right, and not counted.
    let late = 0;
    while (!finished) {
      const rival = await start(env, { BACKUP_SOURCE: small }).done;
      if (finished) {
        late = rival.code === 0 ? 1 : 0;
        break;
      }
      rivals.push(rival.code);
      const now = await leaseIn(adapter);
      if (now && now.holder === held.holder && now.renewed !== lastRenewed) {
        renewed++;
        lastRenewed = now.renewed;
      }
    }
    const result = await holder.done;
    console.log(`renewing holder: ${rivals.length} rivals (exit codes ${[...new Set(rivals)].join(",")}), ${renewed} renewals seen`);
    expect(result.code, result.stderr).toBe(0);
    expect(rivals.length).toBeGreaterThanOrEqual(3);
    expect(new Set(rivals)).toEqual(new Set([7]));
    expect(renewed).toBeGreaterThanOrEqual(2);
    const key = (JSON.parse(result.stdout) as { backup: { key: string } }).backup.key;
    expect(await backupsIn(adapter)).toContain(`${key}.meta.json`);
    expect(await backupsIn(adapter)).toHaveLength(1 + late);
  }, 180_000);
});
