/**
 * Storage outages at the socket level, against a real Ceph RGW behind the TCP fault proxy
 * (test/helpers/fault-proxy.ts): the gateway going away in the middle of a multipart upload and
 * coming back 10 seconds later, staying away longer than `retryFor`, a connection reset in the
 * middle of a part's body, a stall with the socket open, and a download cut by the same 10-second
 * outage. The outages last as long as the issue says (10 s); the data is small (5 MiB parts).
 */

import { randomBytes } from "node:crypto";
import { afterEach, beforeAll, expect, it } from "vitest";
import { s3Adapter, S3Error, type S3AdapterOptions } from "../../src/adapters/s3.js";
import { AdapterError, BackupError, bytesSource, bytesTarget, createBackupper, type Backupper } from "../../src/index.js";
import type { RetryNotice } from "../../src/types.js";
import { sha256 } from "../helpers/data.js";
import { faultProxy, type FaultProxy } from "../helpers/fault-proxy.js";
import { adapterOptions, createBucket, rgwDescribe, s3Server, type S3TestServer } from "../helpers/s3.js";
import { ledger } from "./ledger.js";
import { openUploads } from "./s3-uploads.js";

const MiB = 1024 * 1024;
const OUTAGE_MS = 10_000;
const log = ledger(import.meta.filename);
const describeRgw = rgwDescribe("outages on Ceph RGW");

describeRgw("storage outages (Ceph RGW behind a TCP fault proxy)", () => {
  let server: S3TestServer;
  let proxy: FaultProxy;
  let bucket: string;
  const data = new Uint8Array(randomBytes(36 * MiB + 4321));
  /** Requests as the adapter sent them (method, URL, the resume headers) and the ETag answered. */
  let sent: Array<{ method: string; url: URL; range: string | null; ifMatch: string | null; etag?: string | null }>;

  beforeAll(async () => {
    server = await s3Server("rgw");
  });
  afterEach(async () => {
    await proxy?.close();
  });

  async function setUp(s3: Partial<S3AdapterOptions> = {}): Promise<{ b: Backupper; notices: RetryNotice[] }> {
    bucket = await createBucket(server);
    proxy = await faultProxy(server.endpoint);
    sent = [];
    const adapter = s3Adapter({
      ...adapterOptions(server, bucket),
      endpoint: proxy.endpoint,
      partSize: 5 * MiB,
      concurrency: 2,
      fetch: async (request) => {
        const entry: (typeof sent)[number] = { method: request.method, url: new URL(request.url), range: request.headers.get("range"), ifMatch: request.headers.get("if-match") };
        sent.push(entry);
        const res = await fetch(request);
        entry.etag = res.headers.get("etag");
        return res;
      },
      ...s3,
    });
    const notices: RetryNotice[] = [];
    const b = createBackupper({ adapter, source: bytesSource(data, { name: "outage" }), compression: "none", incompleteGrace: 0, on: { retrying: (n) => void notices.push(n) } });
    return { b, notices };
  }

  /** Refuses connections (resetting the open ones) once `bytes` have passed in `direction`, for `ms`; resolves when traffic passes again. */
  function outageAfter(direction: "request" | "response", bytes: number, ms: number): Promise<{ started: number; ended: number }> {
    return proxy.after(direction, bytes).then(async () => {
      const started = Date.now();
      await proxy.refuse();
      await new Promise((r) => setTimeout(r, ms));
      await proxy.pass();
      return { started, ended: Date.now() };
    });
  }

  it("a 10-second outage in the middle of a multipart upload: the backup completes, lists and verifies", async () => {
    const { b, notices } = await setUp();
    const outage = outageAfter("request", 12 * MiB, OUTAGE_MS);
    const info = await b.backup();
    const { started, ended } = await outage;
    expect(Date.now()).toBeGreaterThanOrEqual(ended);
    expect(notices.some((n) => n.code === "ECONNREFUSED" && /^ECONNREFUSED 127\.0\.0\.1:\d+$/.test(n.reason) && n.status === undefined)).toBe(true);
    expect(notices.some((n) => /^put \(part \d+\)$/.test(n.operation))).toBe(true);
    // Waited through the outage rather than failing inside it.
    expect(Math.max(...notices.map((n) => n.failingForMs))).toBeGreaterThan(OUTAGE_MS / 2);
    expect((await b.list()).map((l) => l.key)).toEqual([info.key]);
    expect(await b.verify(info.key)).toMatchObject({ size: data.length });
    expect(await openUploads(server, bucket)).toEqual([]);
    log.record({
      kind: "outage",
      scenario: "gateway gone for 10 s (connections reset, then refused) 12 MiB into a 36 MiB multipart upload",
      expected: "retried until it answers; backup completes, lists, verifies; no upload left",
      observed: `completed ${((Date.now() - started) / 1000).toFixed(1)} s after the outage began; ${notices.length} retries reported, ${proxy.stats.resets} connections reset; verified`,
      faults: 1 + proxy.stats.resets,
      bytesLost: 0,
    });
  });

  it("an outage longer than retryFor: a typed failure naming the duration, nothing listed, the upload gone after the next prune", async () => {
    const { b } = await setUp({ retryFor: 5_000 });
    const outage = outageAfter("request", 12 * MiB, 12_000);
    const started = Date.now();
    const err = await b.backup().then(
      () => undefined,
      (e: unknown) => e,
    );
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(AdapterError);
    expect(err).toBeInstanceOf(S3Error);
    expect(BackupError.is(err, "ADAPTER")).toBe(true);
    expect((err as Error).message).toMatch(/storage unreachable for [5-9]\.\ds \(ECONNREFUSED 127\.0\.0\.1:\d+\)/);
    expect((err as S3Error).retriedForMs).toBeGreaterThanOrEqual(5_000);
    // It gave up once the budget was spent, not a budget per request in turn (the abort and the cleanup after it too).
    expect(took).toBeLessThan(11_000);
    await outage;
    expect(await b.list()).toEqual([]);
    const left = (await openUploads(server, bucket)).length;
    // The abort could not reach the gateway either: the upload is there for the prune to remove.
    expect(left).toBe(1);
    const report = await b.prune();
    expect(report.abandonedUploads).toHaveLength(left);
    expect(await openUploads(server, bucket)).toEqual([]);
    expect(await b.list()).toEqual([]);
    log.record({
      kind: "outage",
      scenario: "gateway gone for 12 s with retryFor 5 s, 12 MiB into a multipart upload",
      expected: "typed ADAPTER failure naming the duration; nothing listed; upload removed by the next prune",
      observed: `failed after ${(took / 1000).toFixed(1)} s: ${/storage unreachable for [^)]*\)/.exec((err as Error).message)?.[0]}; listed 0; ${left} upload(s) left, 0 after prune`,
      faults: 1 + proxy.stats.resets,
      bytesLost: 0,
    });
  });

  it("a connection reset in the middle of a part's body: the part is retried from its buffer, the backup completes", async () => {
    const { b, notices } = await setUp();
    const reset = proxy.resetAfter("request", 2 * MiB + 12345);
    const info = await b.backup();
    await reset;
    expect(proxy.stats.resets).toBe(1);
    expect(notices.filter((n) => /^put \(part \d+\)$/.test(n.operation))).toHaveLength(1);
    const parts = sent.filter((r) => r.method === "PUT" && r.url.searchParams.has("partNumber")).map((r) => r.url.searchParams.get("partNumber"));
    expect(parts).toHaveLength(new Set(parts).size + 1);
    expect(await b.verify(info.key)).toMatchObject({ size: data.length });
    log.record({
      kind: "outage",
      scenario: "TCP reset 2 MiB into a part's body",
      expected: "part replayed from its buffer; backup completes and verifies",
      observed: `${notices[0]?.operation} retried after ${notices[0]?.code}; verified`,
      faults: proxy.stats.resets,
      bytesLost: 0,
    });
  });

  it("a stall (socket open, no bytes) in the middle of the upload: requestTimeoutMs ends the attempt, the part is retried", async () => {
    const { b, notices } = await setUp({ requestTimeoutMs: 2_000 });
    const stall = proxy.after("request", 12 * MiB).then(async () => {
      proxy.stall();
      await new Promise((r) => setTimeout(r, 4_000));
      await proxy.pass();
    });
    const info = await b.backup();
    await stall;
    expect(notices.some((n) => n.code === "TIMEOUT" && /^put \(part \d+\)$/.test(n.operation))).toBe(true);
    expect(await b.verify(info.key)).toMatchObject({ size: data.length });
    expect(await openUploads(server, bucket)).toEqual([]);
    log.record({
      kind: "outage",
      scenario: "stall for 4 s (connections open, nothing forwarded) 12 MiB into a multipart upload, requestTimeoutMs 2 s",
      expected: "attempt timed out and retried, not hung; backup completes and verifies",
      observed: `${notices.filter((n) => n.code === "TIMEOUT").length} timed-out attempts retried; verified`,
      faults: 1,
      bytesLost: 0,
    });
  });

  it("a download that stalls (socket open, no bytes) is resumed after requestTimeoutMs, not hung", async () => {
    const { b, notices } = await setUp({ requestTimeoutMs: 2_000 });
    const info = await b.backup();
    const stall = proxy.after("response", 8 * MiB).then(async () => {
      proxy.stall();
      await new Promise((r) => setTimeout(r, 5_000));
      await proxy.pass();
    });
    expect(await b.verify(info.key)).toMatchObject({ size: data.length });
    await stall;
    expect(notices.some((n) => n.operation === "get (resume)" && n.code === "TIMEOUT" && n.reason === "no bytes within 2000 ms")).toBe(true);
    log.record({
      kind: "outage",
      scenario: "verify: every connection stalled for 5 s (open, nothing forwarded) 8 MiB into a 36 MiB download, requestTimeoutMs 2 s",
      expected: "the silent body is abandoned after requestTimeoutMs and resumed with Range; verified",
      observed: `${notices.filter((n) => n.code === "TIMEOUT").length} timed-out reads or attempts retried; verified`,
      faults: 1,
      bytesLost: 0,
    });
  });

  it("verify and restore ride out the same 10-second outage: the download resumes with Range from the byte it had reached, pinned by If-Match", async () => {
    const { b, notices } = await setUp();
    const info = await b.backup();
    for (const run of ["verify", "restore"] as const) {
      notices.length = 0;
      sent.length = 0;
      const resetsBefore = proxy.stats.resets;
      const outage = outageAfter("response", 8 * MiB, OUTAGE_MS);
      const target = bytesTarget();
      const result = run === "verify" ? await b.verify(info.key) : await b.restore(info.key, { to: target });
      const { started } = await outage;
      expect(result).toMatchObject({ size: data.length });
      if (run === "restore") expect(sha256(target.bytes!)).toBe(sha256(data));
      const gets = sent.filter((r) => r.method === "GET" && r.url.pathname.endsWith(info.key));
      const resumes = gets.filter((r) => r.range !== null);
      expect(resumes.length).toBeGreaterThan(0);
      const from = Number(/^bytes=(\d+)-$/.exec(resumes.at(-1)!.range!)?.[1]);
      expect(from).toBeGreaterThan(0);
      expect(from).toBeLessThan(data.length);
      // Pinned to the object first read: a replaced object would answer 412, never be spliced on.
      expect(gets[0]!.etag).toMatch(/^".+"$/);
      expect(resumes.every((r) => r.ifMatch === gets[0]!.etag)).toBe(true);
      expect(notices.some((n) => n.operation === "get (resume)")).toBe(true);
      expect(notices.some((n) => n.code === "ECONNREFUSED")).toBe(true);
      log.record({
        kind: "outage",
        scenario: `${run}: gateway gone for 10 s, 8 MiB into a 36 MiB download`,
        expected: "download resumed with Range + If-Match once the gateway answers; verified",
        observed: `resumed from byte ${from} ${((Date.now() - started) / 1000).toFixed(1)} s after the outage began; ${notices.length} retries; ${run === "restore" ? "restored byte-identical" : "verified"}`,
        faults: 1 + proxy.stats.resets - resetsBefore,
        bytesLost: 0,
      });
    }
  });
});
