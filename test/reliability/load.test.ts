/**
 * Load against Ceph RGW: 200 scheduled-style backups with retention 7, 20 concurrent backup()
 * calls on one backupper, and two backuppers sharing a prefix and source name.
 */

import { randomBytes } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { BackupError, bytesSource, bytesTarget, createBackupper, streamSource } from "../../src/index.js";
import { sha256 } from "../helpers/data.js";
import { listKeys } from "../helpers/fixtures.js";
import { rgwDescribe, s3TestAdapter, type S3TestAdapter } from "../helpers/s3.js";
import { ledger } from "./ledger.js";
import { openUploads } from "./s3-uploads.js";

const log = ledger(import.meta.filename);
const describeRgw = rgwDescribe("load on Ceph RGW");

describeRgw("load (Ceph RGW)", () => {
  let t: S3TestAdapter | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it("200 backups in a loop with retention 7 end with exactly 7 complete backups and nothing else", async () => {
    t = await s3TestAdapter("rgw");
    let last: Uint8Array = new Uint8Array(0);
    // One backupper, as the scheduler drives it; the source yields fresh bytes on each backup.
    const source = streamSource(() => new Blob([(last = new Uint8Array(randomBytes(512 + Math.floor(Math.random() * 512))))]).stream(), { name: "load" });
    const b = createBackupper({ adapter: t.adapter, source, retention: 7 });
    const pruneFailures: string[] = [];
    b.on("failed", (e) => pruneFailures.push(e.error.message));
    for (let round = 0; round < 200; round++) await b.backup();
    const listed = await b.list();
    expect(pruneFailures).toEqual([]);
    expect(listed).toHaveLength(7);
    for (const info of listed) await b.verify(info.key);
    const keys = await listKeys(t.adapter, "");
    expect(keys).toHaveLength(14);
    expect(await openUploads(t.server, t.bucket)).toEqual([]);
    const target = bytesTarget();
    await b.restore(listed[0]!.key, { to: target });
    expect(sha256(target.bytes!)).toBe(sha256(last));
    log.record({ kind: "load", scenario: "200 backups, retention 7 (RGW)", expected: "exactly 7 complete, no orphans", observed: `${listed.length} complete, ${keys.length} objects, 0 uploads open, newest restores`, faults: 0, bytesLost: 0 });
  }, 300_000);

  it("20 concurrent backup() calls on one backupper: exactly one runs, 19 are rejected with IN_PROGRESS", async () => {
    t = await s3TestAdapter("rgw");
    const b = createBackupper({ adapter: t.adapter, source: bytesSource(new Uint8Array(randomBytes(4096)), { name: "load" }) });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => b.backup()));
    const done = results.filter((r) => r.status === "fulfilled");
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(done).toHaveLength(1);
    expect(rejected.map((r) => BackupError.is(r.reason, "IN_PROGRESS"))).toEqual(Array(19).fill(true));
    expect(await b.list()).toHaveLength(1);
    log.record({ kind: "load", scenario: "20 concurrent backup() calls", expected: "one runs, 19 IN_PROGRESS", observed: `${done.length} ran, ${rejected.length} IN_PROGRESS, 1 listed`, faults: 0, bytesLost: 0 });
  });

  it("two backuppers on the same prefix and source never prune each other's newest backup", async () => {
    t = await s3TestAdapter("rgw");
    const make = () => createBackupper({ adapter: t!.adapter, source: bytesSource(new Uint8Array(randomBytes(2048)), { name: "shared" }), retention: 2 });
    const a = make();
    const b = make();
    let rounds = 0;
    for (; rounds < 15; rounds++) {
      const [ia, ib] = await Promise.all([a.backup(), b.backup()]);
      const keys = new Set((await a.list()).map((l) => l.key));
      expect(keys.has(ia.key), `round ${rounds}: a's newest pruned`).toBe(true);
      expect(keys.has(ib.key), `round ${rounds}: b's newest pruned`).toBe(true);
    }
    const listed = await a.list();
    for (const info of listed) await a.verify(info.key);
    log.record({ kind: "load", scenario: "two backuppers, same prefix + source, retention 2", expected: "neither prunes the other's newest", observed: `${rounds} concurrent rounds, both newest always listed and verified`, faults: 0, bytesLost: 0 });
  }, 180_000);
});
