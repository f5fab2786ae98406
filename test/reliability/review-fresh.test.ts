/**
 * Review finding 5, the attacks as found: keys dated 2099 (a host that ran once with a wrong
 * clock, or anyone who can write the bucket) once made retention delete every real backup and
 * made a stale set look fresh. On real adapters (fs, memory), keys planted straight through them.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fsAdapter } from "../../src/adapters/fs.js";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { bytesSource, createBackupper } from "../../src/index.js";
import type { StorageAdapter } from "../../src/types.js";
import { listKeys } from "../helpers/fixtures.js";
import { DAY, in2099, plantBackup, plantJunk } from "../helpers/planted.js";
import { ledger } from "./ledger.js";

const log = ledger(import.meta.filename);
const SIZE = 1000;
const RETENTION = 7;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "backupper-review-fresh-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const adapters: Array<[string, () => Promise<StorageAdapter>]> = [
  ["fs", async () => fsAdapter({ root: await mkdtemp(join(work, "store-")), fsync: false })],
  ["memory", async () => memoryAdapter()],
];

/** Ten real backups an hour apart, the newest an hour old; returns their keys newest first. */
async function realSet(adapter: StorageAdapter): Promise<string[]> {
  const now = Date.now();
  const keys: string[] = [];
  for (let i = 10; i >= 1; i--) keys.unshift(await plantBackup(adapter, "queue", new Date(now - i * 3_600_000), SIZE));
  return keys;
}

const planters = {
  "verified keys": (adapter: StorageAdapter, d: Date) => plantBackup(adapter, "queue", d, SIZE),
  "metadata-less keys": (adapter: StorageAdapter, d: Date) => plantJunk(adapter, "queue", d),
};

describe.each(adapters)("future-dated keys against retention (%s adapter)", (label, makeAdapter) => {
  for (const [shape, plant] of Object.entries(planters)) {
    it(`seven 2099 ${shape} + real backups: a backup with retention ${RETENTION} deletes no real backup beyond policy, nor the 2099 keys`, async () => {
      const adapter = await makeAdapter();
      const real = await realSet(adapter);
      const future: string[] = [];
      for (const d of in2099(7)) future.push(await plant(adapter, d));
      const b = createBackupper({ adapter, source: bytesSource(new Uint8Array(SIZE).fill(7), { name: "queue" }), retention: RETENTION });
      const pruned: Array<{ key: string; reasons: string[] }> = [];
      b.on("pruned", (r) => pruned.push(...r.kept));
      const made = await b.backup();

      const left = new Set(await listKeys(adapter));
      // The policy over the real backups alone: the one just made and the six newest before it.
      const shouldStay = [made.key, ...real.slice(0, RETENTION - 1)];
      const lost = shouldStay.filter((k) => !left.has(k));
      expect(lost).toEqual([]);
      for (const k of real.slice(RETENTION - 1)) expect(left.has(k), `${k} is beyond policy`).toBe(false);
      for (const k of future) expect(left.has(k), `${k} deleted`).toBe(true);
      expect(pruned.filter((k) => future.includes(k.key)).map((k) => k.reasons)).toEqual(future.map(() => ["future-dated"]));
      // A later prune does not change its mind.
      expect((await b.prune()).deleted).toEqual([]);
      for (const k of shouldStay) await b.verify(k);
      log.record({
        kind: "review",
        scenario: `${label}: seven ${shape} dated 2099 + 10 real backups, backup with retention ${RETENTION}`,
        expected: "real backups kept per policy; 2099 keys kept as future-dated",
        observed: `${shouldStay.length - lost.length}/${shouldStay.length} real kept and verified, ${real.length - RETENTION + 1} beyond policy deleted, ${future.length} future-dated kept`,
        faults: future.length,
        bytesLost: lost.length * SIZE,
      });
    });
  }

  it("freshness: a 2099 key and a metadata-less object dated now do not count as the newest backup", async () => {
    const adapter = await makeAdapter();
    const old = await plantBackup(adapter, "queue", new Date(Date.now() - 3 * DAY), SIZE);
    await plantBackup(adapter, "queue", in2099(1)[0]!, SIZE);
    await plantJunk(adapter, "queue", new Date());
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array(1), { name: "queue" }) });
    const listed = await b.list();
    expect(listed.filter((x) => x.futureDated).length).toBe(1);
    expect(b.status()).toMatchObject({ backups: 3, futureDated: 1, newestVerified: { key: old } });
    log.record({
      kind: "review",
      scenario: `${label}: 3-day-old backup + one key dated 2099 + a metadata-less object dated now`,
      expected: "status().newestVerified is the 3-day-old backup; the 2099 key flagged",
      observed: `newestVerified ${b.status().newestVerified?.key === old ? "is the 3-day-old backup" : "WRONG"}; futureDated ${b.status().futureDated}`,
      faults: 2,
      bytesLost: 0,
    });
  });
});
