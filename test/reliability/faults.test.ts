/**
 * The fault matrix, end to end: createBackupper + the S3 adapter against a real Ceph RGW, with
 * msw intercepting fetch to inject, on chosen requests only, what a real server will not do on
 * demand (5xx bursts, throttling, resets, truncated or corrupted bodies, 200-with-Error, lying
 * DeleteObjects). Every other request reaches RGW unchanged. After each scenario the faults are
 * removed and the bucket is checked: every backup made before is listed, verifies and restores.
 */

import { randomBytes } from "node:crypto";
import { getResponse, http, HttpResponse, type RequestHandler } from "msw";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { encodeMeta } from "../../src/format/meta.js";
import { BackupError, bytesSource, bytesTarget, createBackupper, type Backupper } from "../../src/index.js";
import type { BackupInfo } from "../../src/types.js";
import { sha256 } from "../helpers/data.js";
import { listKeys } from "../helpers/fixtures.js";
import { rawS3, rgwDescribe, s3TestAdapter, type S3TestAdapter } from "../helpers/s3.js";
import { ledger } from "./ledger.js";
import { openUploads } from "./s3-uploads.js";

const MiB = 1024 * 1024;
const log = ledger(import.meta.filename);
const describeRgw = rgwDescribe("fault matrix on Ceph RGW");

/*
 * msw's handlers, resolved through the adapter's injectable `fetch` with `getResponse`: a
 * request no handler answers goes to RGW untouched. (msw's Node interceptor hangs passing a
 * PUT body through to a real server, and the adapter has a fetch seam for exactly this.)
 */
const handlers: RequestHandler[] = [];
const server = {
  use: (...h: RequestHandler[]) => void handlers.unshift(...h),
  resetHandlers: () => void (handlers.length = 0),
};
async function mswFetch(request: Request): Promise<Response> {
  const mocked = await getResponse(handlers, request);
  // HttpResponse.error() is how msw spells a network failure; fetch reports one by rejecting.
  if (mocked?.type === "error") throw new TypeError("fetch failed (injected connection reset)");
  return mocked ?? fetch(request);
}
afterEach(() => server.resetHandlers());

type Match = (url: URL, method: string) => boolean;
const isPart: Match = (u, m) => m === "PUT" && u.searchParams.has("partNumber");
const isComplete: Match = (u, m) => m === "POST" && u.searchParams.has("uploadId");
const isBulkDelete: Match = (u, m) => m === "POST" && u.searchParams.has("delete");
const isMetaPut: Match = (u, m) => m === "PUT" && u.pathname.endsWith(".meta.json");
const isDataGet: Match = (u, m) => m === "GET" && /\.db\.gz$/.test(u.pathname) && !u.search.includes("list-type");
const isList: Match = (u, m) => m === "GET" && u.searchParams.get("list-type") === "2";

/** Answers the first `times` requests that match with `respond`; everything else goes to RGW. Returns the hit counter. */
function inject(match: Match, times: number, respond: (request: Request) => Response | Promise<Response>): { hits: number } {
  const counter = { hits: 0 };
  server.use(
    http.all("*", async ({ request }) => {
      if (!match(new URL(request.url), request.method) || counter.hits >= times) return undefined;
      counter.hits++;
      return respond(request);
    }),
  );
  return counter;
}

const xmlError = (code: string, status: number, headers: Record<string, string> = {}) =>
  new HttpResponse(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>injected ${code}</Message><RequestId>fault</RequestId></Error>`, {
    status,
    headers: { "content-type": "application/xml", ...headers },
  });

/** The real answer from RGW with its body rewritten by `edit` (same headers, so Content-Length still states the real size). */
async function realWith(request: Request, edit: (body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>): Promise<Response> {
  const real = await fetch(request);
  return new Response(edit(real.body!), { status: real.status, headers: real.headers });
}

function cutAfter(limit: number, end: "error" | "close") {
  return (body: ReadableStream<Uint8Array>) => {
    let passed = 0;
    return body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          if (passed >= limit) return;
          const take = chunk.subarray(0, limit - passed);
          passed += take.byteLength;
          controller.enqueue(take);
          if (passed >= limit && end === "error") controller.error(new Error("ECONNRESET (injected)"));
          if (passed >= limit && end === "close") controller.terminate();
        },
      }),
    );
  };
}

const flipByte = (at: number) => (body: ReadableStream<Uint8Array>) => {
  let offset = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        const copy = chunk.slice();
        if (at >= offset && at < offset + copy.byteLength) copy[at - offset]! ^= 0x40;
        offset += copy.byteLength;
        controller.enqueue(copy);
      },
    }),
  );
};

describeRgw("fault matrix (RGW + msw)", () => {
  let t: S3TestAdapter;
  let data: Uint8Array;
  let b: Backupper;
  /** Backups made so far that must survive every scenario. */
  let made: BackupInfo[];

  beforeAll(async () => {
    data = new Uint8Array(randomBytes(6 * MiB + 333));
  });
  afterEach(async () => {
    await t?.cleanup();
  });

  async function fresh(retention = 10): Promise<void> {
    t = await s3TestAdapter("rgw", { partSize: 5 * MiB, concurrency: 2, retry: { baseDelayMs: 1, maxDelayMs: 20 }, fetch: mswFetch });
    b = createBackupper({ adapter: t.adapter, source: bytesSource(data, { name: "fault" }), retention, compressionLevel: 1, incompleteGrace: 0 });
    made = [];
  }

  /** With faults removed: every backup made is listed, verifies, the newest restores byte-identical, no upload is left open. Returns bytes lost. */
  async function nothingLost(expectListed?: number): Promise<number> {
    server.resetHandlers();
    const listed = await b.list();
    if (expectListed !== undefined) expect(listed).toHaveLength(expectListed);
    const keys = new Set(listed.map((l) => l.key));
    let lost = 0;
    for (const m of made) if (!keys.has(m.key)) lost += m.size ?? 0;
    for (const info of listed.filter((l) => l.verified)) await b.verify(info.key);
    const target = bytesTarget();
    if (listed[0]?.verified) {
      await b.restore(listed[0].key, { to: target });
      expect(sha256(target.bytes!)).toBe(sha256(data));
    }
    expect(await openUploads(t.server, t.bucket)).toEqual([]);
    expect(lost).toBe(0);
    return lost;
  }

  function record(scenario: string, expected: string, observed: string, faults: number, bytesLost: number) {
    expect(faults, "the fault was never injected").toBeGreaterThan(0);
    log.record({ kind: "fault", scenario, expected, observed, faults, bytesLost });
  }

  async function failure(p: Promise<unknown>): Promise<BackupError> {
    const e = await p.then(() => undefined, (err: unknown) => err);
    expect(BackupError.is(e), `expected a BackupError, got ${String(e)}`).toBe(true);
    return e as BackupError;
  }

  it("5xx burst on multipart parts: retried, backup succeeds", async () => {
    await fresh();
    const c = inject(isPart, 3, () => xmlError("InternalError", 500));
    made.push(await b.backup());
    record("5xx burst (3× 500 on parts)", "retried, succeeds", `succeeded after ${c.hits} injected 500s`, c.hits, await nothingLost(1));
  });

  it("SlowDown with Retry-After on the metadata PUT: honoured, backup succeeds", async () => {
    await fresh();
    const c = inject(isMetaPut, 2, () => xmlError("SlowDown", 503, { "retry-after": "0" }));
    made.push(await b.backup());
    record("SlowDown 503 ×2 (Retry-After) on the commit marker", "retried, succeeds", `succeeded after ${c.hits} SlowDowns`, c.hits, await nothingLost(1));
  });

  it("ListObjectsV2 500 burst: retried, list and prune work", async () => {
    await fresh();
    made.push(await b.backup());
    const c = inject(isList, 2, () => xmlError("ServiceUnavailable", 503));
    expect(await b.list()).toHaveLength(1);
    record("ListObjectsV2 503 ×2", "retried, succeeds", "listing complete after retries", c.hits, await nothingLost(1));
  });

  it("connection reset mid-part: the buffered part is replayed, backup succeeds", async () => {
    await fresh();
    const c = inject(isPart, 1, () => HttpResponse.error());
    made.push(await b.backup());
    record("connection reset on a part", "part replayed, succeeds", `succeeded; ${c.hits} reset`, c.hits, await nothingLost(1));
  });

  it("connection reset mid-download: resumed with Range, restore byte-identical", async () => {
    await fresh();
    made.push(await b.backup());
    const c = inject(isDataGet, 1, (r) => realWith(r, cutAfter(2 * MiB, "error")));
    const target = bytesTarget();
    await b.restore(made[0]!.key, { to: target });
    expect(sha256(target.bytes!)).toBe(sha256(data));
    record("connection reset mid-download (after 2 MiB)", "resumed, restore verified", "restored byte-identical", c.hits, await nothingLost(1));
  });

  it("truncated GET body (ends early, Content-Length intact): resumed, restore byte-identical", async () => {
    await fresh();
    made.push(await b.backup());
    const c = inject(isDataGet, 2, (r) => realWith(r, cutAfter(MiB, "close")));
    const target = bytesTarget();
    await b.restore(made[0]!.key, { to: target });
    expect(sha256(target.bytes!)).toBe(sha256(data));
    record("truncated GET body ×2", "resumed, restore verified", "restored byte-identical", c.hits, await nothingLost(1));
  });

  it("bit-flipped GET body: CHECKSUM_MISMATCH, target untouched; clean retry restores", async () => {
    await fresh();
    made.push(await b.backup());
    const c = inject(isDataGet, 2, (r) => realWith(r, flipByte(3 * MiB + 5)));
    const target = bytesTarget();
    const e1 = await failure(b.restore(made[0]!.key, { to: target }));
    const e2 = await failure(b.verify(made[0]!.key));
    // Inside gzip data the flip breaks decompression (CORRUPT_DATA) before the stored SHA-256 is compared at the end.
    for (const e of [e1, e2]) expect(["CORRUPT_DATA", "CHECKSUM_MISMATCH"]).toContain(e.code);
    expect(target.bytes).toBeUndefined();
    record("bit flip in a GET body", "CHECKSUM_MISMATCH, target untouched", `${e1.code} on restore and verify; target untouched`, c.hits, await nothingLost(1));
  });

  it("200 with an <Error> body on CompleteMultipartUpload: retried, backup succeeds", async () => {
    await fresh();
    const c = inject(isComplete, 1, () => new HttpResponse(`<?xml version="1.0"?><Error><Code>InternalError</Code><Message>late failure</Message></Error>`, { status: 200 }));
    made.push(await b.backup());
    record("200 with <Error> body on CompleteMultipartUpload", "retried, succeeds", "succeeded", c.hits, await nothingLost(1));
  });

  it("RequestTimeTooSkewed: clock corrected from the server's Date, backup succeeds", async () => {
    await fresh();
    const c = inject(isMetaPut, 1, () => xmlError("RequestTimeTooSkewed", 403, { date: new Date().toUTCString() }));
    made.push(await b.backup());
    record("clock skew (RequestTimeTooSkewed)", "re-signed with server time, succeeds", "succeeded", c.hits, await nothingLost(1));
  });

  it("DeleteObjects partial failure: prune fails typed, backup still succeeds, next prune finishes", async () => {
    await fresh(1);
    made.push(await b.backup());
    const failures: string[] = [];
    b.on("failed", (e) => failures.push(e.error.code));
    const c = inject(isBulkDelete, 1, async (r) => {
      const key = /<Key>([^<]+)<\/Key>/.exec(await r.clone().text())?.[1] ?? "";
      return new HttpResponse(`<DeleteResult><Error><Key>${key}</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>`, { status: 200 });
    });
    made.push(await b.backup());
    expect(failures).toEqual(["ADAPTER"]);
    server.resetHandlers();
    await b.prune();
    made.shift(); // retention 1: the older backup is meant to go
    record("DeleteObjects partial failure (AccessDenied on a key)", "typed prune error; backup kept; next prune completes", "prune failed with ADAPTER, backup succeeded; next prune completed", c.hits, await nothingLost(1));
  });

  it("DeleteObjects answers 200 but keeps the objects: prune's re-list catches it, the next prune removes them", async () => {
    await fresh(1);
    made.push(await b.backup());
    const failures: string[] = [];
    b.on("failed", (e) => failures.push(`${e.operation} ${e.error.code} ${e.error.message}`));
    const c = inject(isBulkDelete, 10, () => new HttpResponse(`<DeleteResult></DeleteResult>`, { status: 200 }));
    made.push(await b.backup());
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^prune ADAPTER .*still lists 2 object/);
    const relisted = await listKeys(t.adapter, "backups/");
    expect(relisted).toHaveLength(4); // both backups still there: the lie removed nothing
    server.resetHandlers();
    const report = await b.prune();
    expect(report.deleted.map((d) => d.key)).toEqual([made[0]!.key]);
    made.shift();
    record("DeleteObjects 200 but objects kept", "prune re-lists and reports the kept objects; next prune deletes them", "prune failed with ADAPTER naming the 2 kept objects; backup succeeded; next prune deleted them", c.hits, await nothingLost(1));
  });

  it("missing, garbage, huge, wrong-typed and wrong-size metadata: typed errors, never a wrong restore, older backups kept", async () => {
    await fresh(1);
    const cases: Array<[string, (key: string) => Uint8Array | null, string]> = [
      ["garbage", () => new TextEncoder().encode("{not json"), "INVALID_METADATA"],
      ["huge", () => new Uint8Array(200 * 1024).fill(32), "INVALID_METADATA"],
      ["wrong-typed", () => new TextEncoder().encode(JSON.stringify({ timestamp: new Date().toISOString(), version: "1", size: "12", checksum: "0".repeat(64) })), "INVALID_METADATA"],
      ["wrong size", () => encodeMeta({ ...made[0]!.meta!, size: made[0]!.size! + 1 }), "CORRUPT_DATA"],
      ["wrong compressedSize", () => encodeMeta({ ...made[0]!.meta!, compressedSize: made[0]!.compressedSize - 1 }), "CORRUPT_DATA"],
      ["missing", () => null, "UNVERIFIED"],
    ];
    made.push(await b.backup());
    let faults = 0;
    const observed: string[] = [];
    for (const [label, bytes, code] of cases) {
      const victim = await createBackupper({ adapter: t.adapter, source: bytesSource(data, { name: "fault" }), retention: 100, compressionLevel: 1 }).backup();
      const body = bytes(victim.key);
      if (body) await t.adapter.put(victim.metaKey, body);
      else await t.adapter.delete([victim.metaKey]);
      faults++;
      const target = bytesTarget();
      const e = await failure(b.restore(victim.key, { to: target }));
      expect(e.code, label).toBe(code);
      expect(target.bytes).toBeUndefined();
      observed.push(`${label} → ${e.code}`);
      // Unreadable metadata, or metadata whose stored size disagrees with the object, is not "verified",
      // so prune (retention 1) must keep the intact one. (A wrong ORIGINAL size is only found by
      // downloading: such metadata counts as verified until then, see docs/RELIABILITY.md.)
      if (label !== "wrong size") await b.prune();
      await t.adapter.delete([victim.key, victim.metaKey]);
    }
    record("metadata missing / garbage / huge / wrong-typed / wrong sizes", "typed error per case, target untouched, intact backup kept", observed.join("; "), faults, await nothingLost(1));
  });
});

describe("clock skew in keys (memory adapter)", () => {
  it("a backup taken with the clock a year ahead never causes the just-made backup to be pruned", async () => {
    const adapter = memoryAdapter();
    const data = new Uint8Array(randomBytes(1000));
    const b = createBackupper({ adapter, source: bytesSource(data, { name: "skew" }), retention: 2 });
    const now = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    const made: BackupInfo[] = [];
    try {
      vi.setSystemTime(now + 365 * 86_400_000);
      const ahead = await b.backup();
      for (let i = 1; i <= 3; i++) {
        vi.setSystemTime(now + i * 1000);
        made.push(await b.backup());
      }
      const listed = (await b.list()).map((l) => l.key);
      // Keys sort by their own timestamp, but a future-dated one fills no retention slot: both hold real backups.
      expect(listed).toEqual([ahead.key, made[2]!.key, made[1]!.key]);
      for (const key of listed) await b.verify(key);
    } finally {
      vi.useRealTimers();
    }
    log.record({
      kind: "fault",
      scenario: "local clock one year ahead for one backup",
      expected: "just-made backup never pruned; all listed verify",
      observed: "just-made kept and verified; the future-dated backup is kept outside the policy, both retention slots hold real backups",
      faults: 1,
      bytesLost: 0,
    });
  });
});
