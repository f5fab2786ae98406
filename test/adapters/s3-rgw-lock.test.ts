/**
 * Object Lock end to end on Ceph RGW: a bucket created with Object Lock enabled, backups
 * written under GOVERNANCE retention, a prune that keeps them (saying why), a restore, and the
 * server itself refusing to delete a locked version. The 6 MiB backup goes multipart, which
 * RGW 16 writes unlocked unless the retention is set again after Complete. Also on RGW: a
 * Complete whose answer is lost after the server completed it, and the mark a retry's HEAD checks.
 */

import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { s3Adapter } from "../../src/adapters/s3.js";
import { readAll } from "../../src/testing.js";
import { bytesSource, bytesTarget, createBackupper, type BackupInfo } from "../../src/index.js";
import { adapterOptions, rawS3, rgwDescribe, s3Server, type S3TestServer } from "../helpers/s3.js";

const describeRgw = rgwDescribe("Object Lock on Ceph RGW");

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describeRgw("Object Lock on Ceph RGW", () => {
  let server: S3TestServer;
  const bucket = `lock-${process.pid}-${Date.now().toString(36)}`;

  beforeAll(async () => {
    server = await s3Server("rgw");
    const res = await rawS3(server).fetch(bucket, { method: "PUT", headers: { "x-amz-bucket-object-lock-enabled": "true" } });
    expect(res.status, await res.text()).toBe(200);
  });

  afterAll(async () => {
    if (!server) return;
    // GOVERNANCE lets the owner lift the lock: remove every version so the bucket can go.
    const raw = rawS3(server);
    const xml = await (await raw.fetch(`${bucket}?versions`)).text();
    for (const [, key, id] of xml.matchAll(/<(?:Version|DeleteMarker)>[\s\S]*?<Key>([^<]*)<\/Key>[\s\S]*?<VersionId>([^<]*)<\/VersionId>/g)) {
      await raw.fetch(`${bucket}/${key}?versionId=${encodeURIComponent(id!)}`, { method: "DELETE", headers: { "x-amz-bypass-governance-retention": "true" } });
    }
    await raw.fetch(bucket, { method: "DELETE" });
  });

  it("backs up under lock, keeps locked backups on prune with the reason, restores, and the server refuses a delete", async () => {
    const adapter = s3Adapter({ ...adapterOptions(server, bucket), objectLock: { mode: "GOVERNANCE", retainDays: 1 }, partSize: 5 * 1024 * 1024 });
    const data = [randomBytes(1000), randomBytes(6 * 1024 * 1024)];
    const made: BackupInfo[] = [];
    for (const bytes of data) {
      const b = createBackupper({ adapter, source: bytesSource(bytes, { name: "db" }), retention: 1, compression: "none" });
      made.push(await b.backup());
    }
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array(0), { name: "db" }), retention: 1 });

    const listed = await b.list();
    expect(listed.map((x) => x.key).sort()).toEqual(made.map((x) => x.key).sort());
    for (const info of listed) {
      const until = Date.parse(info.meta!.lockedUntil!);
      expect(until - Date.now()).toBeGreaterThan(86_400_000 - 10 * 60_000);
      expect(until - Date.now()).toBeLessThanOrEqual(86_400_000);
    }

    const report = await b.prune();
    expect(report.deleted).toEqual([]);
    const older = report.kept.find((k) => k.key === made[0]!.key)!;
    expect(older.reasons).toEqual([`locked until ${listed.find((x) => x.key === made[0]!.key)!.meta!.lockedUntil}`]);
    expect(report.notes?.join(" ")).toContain("delete marker");

    for (const [i, info] of made.entries()) {
      const to = bytesTarget();
      await b.restore(info.key, { to });
      expect(sha256(to.bytes!)).toBe(sha256(data[i]!));
    }

    const raw = rawS3(server);
    for (const key of [made[0]!.key, `${made[0]!.key}.meta.json`, made[1]!.key]) {
      const head = await raw.fetch(`${bucket}/${key}`, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("x-amz-object-lock-mode")).toBe("GOVERNANCE");
      const retention = await (await raw.fetch(`${bucket}/${key}?retention`)).text();
      expect(retention).toContain("<Mode>GOVERNANCE</Mode>");
      expect(Date.parse(/<RetainUntilDate>([^<]+)</.exec(retention)?.[1] ?? "") - Date.now()).toBeGreaterThan(86_400_000 - 10 * 60_000);
      const versionId = head.headers.get("x-amz-version-id");
      expect(versionId).toBeTruthy();
      const del = await raw.fetch(`${bucket}/${key}?versionId=${encodeURIComponent(versionId!)}`, { method: "DELETE" });
      expect(del.status, await del.text()).toBe(403);
      expect((await raw.fetch(`${bucket}/${key}`, { method: "HEAD" })).status).toBe(200);
    }
  });
});

describeRgw("a CompleteMultipartUpload whose answer was lost, on Ceph RGW", () => {
  it("succeeds on the retry, and the object carries the upload's mark", async () => {
    const server = await s3Server("rgw");
    const bucket = `lost-${process.pid}-${Date.now().toString(36)}`;
    const raw = rawS3(server);
    expect((await raw.fetch(bucket, { method: "PUT" })).status).toBe(200);
    let dropped = 0;
    const completes: number[] = [];
    const adapter = s3Adapter({
      ...adapterOptions(server, bucket),
      partSize: 5 * 1024 * 1024,
      retry: { sleep: async () => undefined },
      fetch: async (request) => {
        const res = await fetch(request);
        const isComplete = request.method === "POST" && new URL(request.url).searchParams.has("uploadId");
        if (isComplete) completes.push(res.status);
        if (isComplete && dropped++ === 0) {
          await res.arrayBuffer();
          throw new TypeError("fetch failed", { cause: new Error("socket hang up") });
        }
        return res;
      },
    });
    const body = randomBytes(6 * 1024 * 1024);
    try {
      await adapter.put("lost/answer.db", body);
      // RGW, like AWS, answers a repeated Complete with 200; MinIO's NoSuchUpload is covered in s3-providers.
      expect(completes).toEqual([200, 200]);
      // What the MinIO path relies on: the mark set on Create comes back on the object's HEAD.
      const head = await raw.fetch(`${bucket}/lost/answer.db`, { method: "HEAD" });
      expect(head.headers.get("x-amz-meta-backupper-upload")).toMatch(/^[0-9a-f-]{36}$/);
      expect(head.headers.get("content-length")).toBe(String(body.length));
      const got = await adapter.get("lost/answer.db");
      expect(sha256(await readAll(got!.body))).toBe(sha256(body));
    } finally {
      await raw.fetch(`${bucket}/lost/answer.db`, { method: "DELETE" });
      await raw.fetch(bucket, { method: "DELETE" });
    }
  });
});
