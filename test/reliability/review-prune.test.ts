/**
 * Review finding 4: a source's prune removed the interrupted-put leftovers of every source whose
 * name merely starts with its own (`queue` vs `queue-archive` share the listing prefix
 * `backups/queue-`), aborting a live multipart upload of the other source. Leftovers are now
 * matched by the key grammar, as listing is.
 */
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fsAdapter } from "../../src/fs.js";
import { bytesSource, createBackupper } from "../../src/index.js";
import { randomBytes } from "../helpers/data.js";
import { rawS3, rgwDescribe, s3TestAdapter, type S3TestAdapter } from "../helpers/s3.js";
import { ledger } from "./ledger.js";
import { openUploads } from "./s3-uploads.js";

const log = ledger(import.meta.filename);
const describeRgw = rgwDescribe("prune on Ceph RGW");

const OWN = "backups/queue-2026-01-01T00-00-00-000Z-aaaaaaaa.db.gz";
const OTHER = "backups/queue-archive-2026-01-01T00-00-00-000Z-bbbbbbbb.db.gz";

describe("prune of one source and another source's interrupted puts (fs)", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "backupper-review-prune-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("removes its own stale temp files and leaves those of a source whose name extends its own", async () => {
    await mkdir(join(root, "backups"), { recursive: true });
    const temp = (key: string, hex: string) => `.${key.slice("backups/".length)}.tmp-${hex}`;
    const own = temp(OWN, "0123456789ab");
    const other = temp(OTHER, "0123456789ac");
    const otherMeta = temp(`${OTHER}.meta.json`, "0123456789ad");
    const past = new Date(Date.now() - 2 * 3_600_000);
    for (const name of [own, other, otherMeta]) {
      await writeFile(join(root, "backups", name), "partial");
      await utimes(join(root, "backups", name), past, past);
    }
    const queue = createBackupper({ adapter: fsAdapter({ root }), source: bytesSource(randomBytes(100), { name: "queue" }) });
    const report = await queue.prune();
    expect(report.abandonedUploads).toEqual([`backups/${own}`]);
    expect((await readdir(join(root, "backups"))).sort()).toEqual([other, otherMeta].sort());
    log.record({
      kind: "review",
      scenario: "prune of `queue` with stale temp files of `queue-archive` on fs (shared listing prefix)",
      expected: "only `queue`'s own temp file removed",
      observed: "own temp removed; both `queue-archive` temps kept",
      faults: 2,
      bytesLost: 0,
    });
  });
});

describeRgw("prune of one source and another source's multipart upload (Ceph RGW)", () => {
  let t: S3TestAdapter;
  beforeAll(async () => {
    t = await s3TestAdapter("rgw");
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it("aborts its own abandoned upload and leaves the upload in progress of `queue-archive`", async () => {
    for (const key of [OWN, OTHER]) {
      const res = await rawS3(t.server).fetch(`${t.bucket}/${key}?uploads`, { method: "POST" });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 1100));
    // A zero grace period makes both uploads "stale": only the key grammar can tell them apart.
    const queue = createBackupper({ adapter: t.adapter, source: bytesSource(randomBytes(100), { name: "queue" }), incompleteGrace: 0 });
    const report = await queue.prune();
    expect(report.abandonedUploads.map((a) => a.split(" ")[0])).toEqual([OWN]);
    expect((await openUploads(t.server, t.bucket)).map((u) => u.key)).toEqual([OTHER]);
    log.record({
      kind: "review",
      scenario: "prune of `queue` while a multipart upload of `queue-archive` is open on RGW",
      expected: "only `queue`'s abandoned upload aborted",
      observed: "own upload aborted; `queue-archive`'s upload still open",
      faults: 2,
      bytesLost: 0,
    });
  });
});
