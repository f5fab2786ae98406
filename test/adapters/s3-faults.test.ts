/**
 * Faults a real server will not produce on demand, injected with msw at the fetch layer:
 * throttling bursts, resets, truncated bodies, 200-with-Error, clock skew, auth failures.
 * Every test asserts the outcome and how many requests were made.
 */

import { createHash } from "node:crypto";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { s3Adapter, S3Error, type S3AdapterOptions } from "../../src/adapters/s3.js";
import { BackupError } from "../../src/errors.js";
import type { RetryNotice } from "../../src/types.js";
import { secretWatch } from "../helpers/s3-secrets.js";

const ENDPOINT = "http://s3.test";
const BUCKET = "bkt";
const SECRET = "fault-test-secret-Zq81xYw";
const MiB = 1024 * 1024;

const server = setupServer();
const watch = secretWatch();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

interface Seen {
  method: string;
  url: URL;
  headers: Headers;
  body: Uint8Array;
}

/** Answers every request with `respond`, recording what arrived. */
function fake(respond: (req: Seen, index: number) => Response | Promise<Response>): Seen[] {
  const seen: Seen[] = [];
  server.use(
    http.all(`${ENDPOINT}/*`, async ({ request }) => {
      const req = { method: request.method, url: new URL(request.url), headers: request.headers, body: new Uint8Array(await request.arrayBuffer()) };
      seen.push(req);
      return respond(req, seen.length - 1);
    }),
  );
  return seen;
}

const xmlError = (code: string, status: number, headers: Record<string, string> = {}) =>
  new HttpResponse(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>${code} happened</Message><RequestId>req-${code}</RequestId></Error>`, {
    status,
    headers: { "content-type": "application/xml", ...headers },
  });

const ok = (body?: string, headers: Record<string, string> = {}) => new HttpResponse(body ?? null, { status: 200, headers: { etag: '"e"', ...headers } });

function adapter(overrides: Partial<S3AdapterOptions> = {}, sleeps: number[] = []) {
  return s3Adapter({
    bucket: BUCKET,
    region: "us-east-1",
    endpoint: ENDPOINT,
    forcePathStyle: true,
    accessKeyId: "AKIAFAULTTEST",
    secretAccessKey: SECRET,
    maxAttempts: 4,
    retry: { random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) },
    fetch: watch.fetch(),
    ...overrides,
  });
}

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (v) => ({ resolved: v }),
    (e: unknown) => watch.seen(e),
  );
}

/** Multipart protocol: create, parts, complete, abort; `part`/`complete` may inject faults. */
function fakeMultipart(hooks: { part?: (req: Seen, n: number) => Response | undefined; complete?: (n: number) => Response | undefined } = {}) {
  let parts = 0;
  let completes = 0;
  return fake((req) => {
    const q = req.url.searchParams;
    if (req.method === "POST" && q.has("uploads")) return ok(`<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>`);
    if (req.method === "PUT" && q.has("partNumber")) {
      const injected = hooks.part?.(req, ++parts);
      return injected ?? ok(undefined, { etag: `"p${q.get("partNumber")}"` });
    }
    if (req.method === "POST" && q.has("uploadId")) {
      const injected = hooks.complete?.(++completes);
      return injected ?? ok(`<CompleteMultipartUploadResult><ETag>"all-3"</ETag></CompleteMultipartUploadResult>`);
    }
    if (req.method === "DELETE" && q.has("uploadId")) return new HttpResponse(null, { status: 204 });
    return xmlError("UnexpectedRequest", 400);
  });
}

const partRequests = (seen: Seen[]) => seen.filter((r) => r.url.searchParams.has("partNumber"));
const completeRequests = (seen: Seen[]) => seen.filter((r) => r.method === "POST" && r.url.searchParams.has("uploadId"));
const abortRequests = (seen: Seen[]) => seen.filter((r) => r.method === "DELETE" && r.url.searchParams.has("uploadId"));

describe("throttling and server errors", () => {
  it("rides out a burst of 503 SlowDown with full-jitter backoff", async () => {
    const sleeps: number[] = [];
    const seen = fake((_, i) => (i < 2 ? xmlError("SlowDown", 503) : ok()));
    await adapter({}, sleeps).put("k", new Uint8Array([1, 2, 3]));
    expect(seen).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]);
    expect(seen.map((r) => r.body.length)).toEqual([3, 3, 3]);
  });

  it("times out an attempt the server never answers, and retries it", async () => {
    const sleeps: number[] = [];
    const seen = fake(async (_, i) => {
      if (i === 0) await new Promise((r) => setTimeout(r, 2_000));
      return ok();
    });
    await adapter({ requestTimeoutMs: 200 }, sleeps).put("k", new Uint8Array([1, 2, 3]));
    expect(seen).toHaveLength(2);
    expect(sleeps).toEqual([50]);
  });

  it("reports a server that never answers as a typed error once attempts run out", async () => {
    fake(async () => {
      await new Promise((r) => setTimeout(r, 2_000));
      return ok();
    });
    const err = await failure(adapter({ requestTimeoutMs: 100, maxAttempts: 2 }).put("k", new Uint8Array([1])));
    expect(err).toBeInstanceOf(S3Error);
    expect(err).toMatchObject({ attempts: 2, operation: "put" });
    expect((err as Error).message).toMatch(/no answer within 100 ms/);
  });

  it("gives up after maxAttempts with the last SlowDown as a typed error", async () => {
    const sleeps: number[] = [];
    const seen = fake(() => xmlError("SlowDown", 503));
    const err = await failure(adapter({}, sleeps).put("k", new Uint8Array([1])));
    expect(err).toBeInstanceOf(S3Error);
    expect(err).toMatchObject({ s3Code: "SlowDown", status: 503, attempts: 4, requestId: "req-SlowDown", operation: "put", key: "k" });
    expect(seen).toHaveLength(4);
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it("honours Retry-After on 429", async () => {
    const sleeps: number[] = [];
    const seen = fake((_, i) => (i === 0 ? xmlError("TooManyRequests", 429, { "retry-after": "3" }) : ok()));
    await adapter({}, sleeps).put("k", new Uint8Array([1]));
    expect(seen).toHaveLength(2);
    expect(sleeps).toEqual([3000]);
  });

  it("does not retry 403 AccessDenied, 400 validation errors or a missing bucket", async () => {
    for (const [code, status, auth] of [["AccessDenied", 403, true], ["InvalidArgument", 400, false], ["NoSuchBucket", 404, false]] as const) {
      const sleeps: number[] = [];
      const seen = fake(() => xmlError(code, status));
      const err = await failure(adapter({}, sleeps).put("k", new Uint8Array([1])));
      expect(err).toMatchObject({ s3Code: code, status, attempts: 1, isAuthError: auth });
      expect(seen).toHaveLength(1);
      expect(sleeps).toEqual([]);
    }
  });

  it("stops sleeping between attempts as soon as the signal aborts", async () => {
    const controller = new AbortController();
    const seen = fake(() => {
      setTimeout(() => controller.abort(new Error("shutdown")), 5);
      return xmlError("SlowDown", 503);
    });
    const slow = adapter({ retry: { baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 1 } });
    const err = await failure(slow.put("k", new Uint8Array([1]), { signal: controller.signal }));
    expect(BackupError.is(err, "ABORTED")).toBe(true);
    expect(seen).toHaveLength(1);
  });
});

describe("retries bounded by time (retryFor)", () => {
  /** The adapter without the suite's attempt limit and fake sleep: real waits, bounded by `retryFor` only. */
  const timed = (overrides: Partial<S3AdapterOptions>) =>
    s3Adapter({ bucket: BUCKET, region: "us-east-1", endpoint: ENDPOINT, forcePathStyle: true, accessKeyId: "AKIAFAULTTEST", secretAccessKey: SECRET, fetch: watch.fetch(), ...overrides });

  it("retries a storage that refuses connections until retryFor is spent, reporting each wait, then fails saying for how long", async () => {
    const seen = fake(() => HttpResponse.error());
    const notices: RetryNotice[] = [];
    const started = Date.now();
    const err = await failure(timed({ retryFor: 1200, retry: { baseDelayMs: 20, maxDelayMs: 200 } }).put("k", new Uint8Array([1]), { onRetry: (n) => void notices.push(n) }));
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(S3Error);
    expect(took).toBeGreaterThanOrEqual(1200);
    expect(took).toBeLessThan(1200 + 1500);
    expect((err as Error).message).toMatch(/storage unreachable for 1\.\ds \(/);
    expect(err).toMatchObject({ operation: "put", key: "k", attempts: seen.length });
    expect((err as S3Error).retriedForMs).toBeGreaterThanOrEqual(1200);
    // One notice per retry: the attempt that failed, its wait, and how long the storage has been failing.
    expect(notices).toHaveLength(seen.length - 1);
    expect(notices.map((n) => n.attempt)).toEqual(notices.map((_, i) => i + 1));
    expect(notices.every((n) => n.operation === "put" && n.key === "k" && n.status === undefined && n.waitMs <= 200)).toBe(true);
    expect(notices.at(-1)!.failingForMs).toBeGreaterThan(notices[0]!.failingForMs);
  });

  it("keeps maxAttempts as an upper bound when set", async () => {
    const seen = fake(() => xmlError("ServiceUnavailable", 503));
    const err = await failure(timed({ retryFor: 60_000, maxAttempts: 3, retry: { baseDelayMs: 1 } }).put("k", new Uint8Array([1])));
    expect(err).toMatchObject({ s3Code: "ServiceUnavailable", status: 503, attempts: 3 });
    expect(seen).toHaveLength(3);
  });

  it("reports answered failures with their status and code, and says the storage kept failing", async () => {
    fake(() => xmlError("SlowDown", 503));
    const notices: RetryNotice[] = [];
    const err = await failure(timed({ retryFor: 1100, retry: { baseDelayMs: 50, maxDelayMs: 100 } }).list("p/", { onRetry: (n) => void notices.push(n) })[Symbol.asyncIterator]().next());
    expect((err as Error).message).toMatch(/storage kept failing for 1\.\ds: SlowDown happened/);
    expect(notices[0]).toMatchObject({ operation: "list", code: "SlowDown", reason: "503 SlowDown", status: 503, attempt: 1 });
  });

  it("retryFor 0 turns retries off", async () => {
    const seen = fake(() => HttpResponse.error());
    const err = await failure(timed({ retryFor: 0 }).put("k", new Uint8Array([1])));
    expect(err).toMatchObject({ attempts: 1, retriedForMs: undefined });
    expect(seen).toHaveLength(1);
  });

  it("gives requests that start failing during the same outage no new budget: cleanup after a give-up fails at once", async () => {
    const seen = fake(() => HttpResponse.error());
    const s3 = timed({ retryFor: 1000, retry: { baseDelayMs: 20, maxDelayMs: 100 } });
    await failure(s3.put("k", new Uint8Array([1])));
    const before = seen.length;
    const started = Date.now();
    const err = await failure(s3.delete(["k"]));
    expect(Date.now() - started).toBeLessThan(500);
    expect(seen.length - before).toBe(1);
    expect((err as Error).message).toMatch(/request to http:\/\/s3\.test failed/);
  });

  it("starts a new budget once the storage answers again", async () => {
    let down = true;
    fake(() => (down ? HttpResponse.error() : ok()));
    const s3 = timed({ retryFor: 800, retry: { baseDelayMs: 20, maxDelayMs: 100 } });
    await failure(s3.put("k", new Uint8Array([1])));
    down = false;
    await s3.put("k", new Uint8Array([1]));
    down = true;
    const notices: RetryNotice[] = [];
    const started = Date.now();
    await failure(s3.put("k", new Uint8Array([1]), { onRetry: (n) => void notices.push(n) }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(notices.length).toBeGreaterThan(2);
  });

  it("ends the waits of requests that found the storage unreachable as soon as another request gets an answer", async () => {
    const seen = fake((_, i) => (i === 0 ? HttpResponse.error() : ok()));
    const s3 = timed({ retry: { baseDelayMs: 5_000, maxDelayMs: 5_000, random: () => 1 } });
    const started = Date.now();
    const waiting = s3.put("a", new Uint8Array([1]));
    await new Promise((r) => setTimeout(r, 100));
    await s3.put("b", new Uint8Array([2]));
    await waiting;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(seen).toHaveLength(3);
  });

  it("keeps the backoff of an answered failure (503) when another request gets an answer", async () => {
    fake((_, i) => (i === 0 ? xmlError("SlowDown", 503) : ok()));
    const s3 = timed({ retry: { baseDelayMs: 800, maxDelayMs: 800, random: () => 1 } });
    const started = Date.now();
    const waiting = s3.put("a", new Uint8Array([1]));
    await new Promise((r) => setTimeout(r, 100));
    await s3.put("b", new Uint8Array([2]));
    await waiting;
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
  });

  it("fails at once, without retrying, when the request cannot even be made (a header value fetch refuses)", async () => {
    const seen = fake(() => ok());
    const err = await failure(timed({ sessionToken: "bad\nvalue" }).put("k", new Uint8Array([1])));
    expect(err).toBeInstanceOf(S3Error);
    expect((err as Error).message).toMatch(/could not make the request/);
    expect(seen).toHaveLength(0);
  });
});

describe("multipart", () => {
  const body = new Uint8Array(11 * MiB).map((_, i) => (i * 31) & 0xff);
  const small = { partSize: 5 * MiB, multipartThreshold: 5 * MiB };

  it("replays a part whose connection reset, byte for byte with the same payload hash", async () => {
    const seen = fakeMultipart({ part: (req, n) => (n === 2 && req.url.searchParams.get("partNumber") === "2" ? HttpResponse.error() : undefined) });
    const sleeps: number[] = [];
    await adapter({ ...small, concurrency: 1 }, sleeps).put("big", body);
    const parts = partRequests(seen);
    expect(parts.map((r) => r.url.searchParams.get("partNumber"))).toEqual(["1", "2", "2", "3"]);
    const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
    const [first, retry] = [parts[1]!, parts[2]!];
    expect(retry.body.length).toBe(5 * MiB);
    expect(sha(retry.body)).toBe(sha(first.body));
    expect(sha(retry.body)).toBe(sha(body.subarray(5 * MiB, 10 * MiB)));
    expect(retry.headers.get("x-amz-content-sha256")).toBe(sha(retry.body));
    expect(sleeps).toHaveLength(1);
    const complete = new TextDecoder().decode(completeRequests(seen)[0]!.body);
    expect(complete.match(/<PartNumber>\d+<\/PartNumber>/g)).toEqual(["<PartNumber>1</PartNumber>", "<PartNumber>2</PartNumber>", "<PartNumber>3</PartNumber>"]);
    expect(abortRequests(seen)).toHaveLength(0);
  });

  it("keeps at most `concurrency` parts in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const seen = fake(async (req) => {
      const q = req.url.searchParams;
      if (q.has("uploads")) return ok(`<InitiateMultipartUploadResult><UploadId>u</UploadId></InitiateMultipartUploadResult>`);
      if (q.has("partNumber")) {
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return ok(undefined, { etag: '"p"' });
      }
      return ok(`<CompleteMultipartUploadResult><ETag>"x"</ETag></CompleteMultipartUploadResult>`);
    });
    await adapter({ ...small, concurrency: 2 }).put("big", new Uint8Array(26 * MiB));
    expect(partRequests(seen)).toHaveLength(6);
    expect(peak).toBe(2);
  });

  it("retries a Complete that answers 200 with a transient <Error>", async () => {
    const seen = fakeMultipart({
      complete: (n) => (n === 1 ? ok(`<?xml version="1.0"?>\n<Error><Code>InternalError</Code><Message>try again</Message></Error>`) : undefined),
    });
    expect(await adapter(small).put("big", body)).toEqual({ etag: '"all-3"' });
    expect(completeRequests(seen)).toHaveLength(2);
    expect(abortRequests(seen)).toHaveLength(0);
  });

  it("fails and aborts the upload on a Complete that answers 200 with a permanent <Error>", async () => {
    const seen = fakeMultipart({ complete: () => ok(`<Error><Code>InvalidPart</Code><Message>part gone</Message></Error>`) });
    const err = await failure(adapter(small).put("big", body));
    expect(err).toMatchObject({ s3Code: "InvalidPart", status: 200, attempts: 1 });
    expect(completeRequests(seen)).toHaveLength(1);
    expect(abortRequests(seen)).toHaveLength(1);
  });

  it("aborts the upload when a part fails for good, and stops sending parts", async () => {
    const seen = fakeMultipart({ part: (req) => (req.url.searchParams.get("partNumber") === "1" ? xmlError("AccessDenied", 403) : undefined) });
    const err = await failure(adapter({ ...small, concurrency: 1 }).put("big", body));
    expect(err).toMatchObject({ s3Code: "AccessDenied", operation: "put (part 1)" });
    expect(partRequests(seen)).toHaveLength(1);
    expect(abortRequests(seen)).toHaveLength(1);
    expect(completeRequests(seen)).toHaveLength(0);
  });
});

describe("get", () => {
  const content = "0123456789".repeat(10);

  it("resumes a truncated body with Range + If-Match from the byte already delivered", async () => {
    const seen = fake((req, i) => {
      if (i === 0) return new HttpResponse(content.slice(0, 40), { headers: { "content-length": "100", etag: '"v1"' } });
      return new HttpResponse(content.slice(40), { status: 206, headers: { "content-range": "bytes 40-99/100", etag: '"v1"' } });
    });
    const got = await adapter().get("obj");
    expect(got?.size).toBe(100);
    expect(await text(got!.body)).toBe(content);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers.get("range")).toBe("bytes=40-");
    expect(seen[1]!.headers.get("if-match")).toBe('"v1"');
  });

  it("errors the stream when the body keeps breaking off", async () => {
    const seen = fake((req) => {
      const from = Number(/bytes=(\d+)-/.exec(req.headers.get("range") ?? "")?.[1] ?? 0);
      const piece = content.slice(from, from + 10);
      return new HttpResponse(piece, {
        status: from ? 206 : 200,
        headers: from ? { "content-range": `bytes ${from}-99/100`, etag: '"v1"' } : { "content-length": "100", etag: '"v1"' },
      });
    });
    const got = await adapter().get("obj");
    const err = await failure(text(got!.body));
    expect(err).toBeInstanceOf(S3Error);
    expect(String(err)).toMatch(/broke off after 40 of 100 bytes/);
    expect(seen).toHaveLength(4);
  });

  it("errors the stream when the object changed between the first request and the resume", async () => {
    const seen = fake((_, i) =>
      i === 0 ? new HttpResponse(content.slice(0, 40), { headers: { "content-length": "100", etag: '"v1"' } }) : xmlError("PreconditionFailed", 412),
    );
    const got = await adapter().get("obj");
    const err = await failure(text(got!.body));
    expect(err).toMatchObject({ s3Code: "PreconditionFailed", status: 412 });
    expect(seen).toHaveLength(2);
  });

  it("does not resume a body that fetch decoded (stored Content-Encoding): offsets would not match", async () => {
    // Answered by an injected fetch, not msw: msw keeps its own copy of a mocked body, and an
    // errored copy that nobody reads surfaces as an unhandled rejection.
    let requests = 0;
    const fetchFn = async () => {
      requests++;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(content.slice(0, 40)));
          controller.error(new TypeError("terminated"));
        },
      });
      return new Response(body, { headers: { "content-length": "100", "content-encoding": "gzip", etag: '"v1"' } });
    };
    const got = await adapter({ fetch: fetchFn }).get("obj");
    expect(got?.size).toBeUndefined();
    const err = await failure(text(got!.body));
    expect(err).toBeInstanceOf(S3Error);
    expect(requests).toBe(1);
  });

  it("returns null only for NoSuchKey; NoSuchBucket is an error", async () => {
    fake(() => xmlError("NoSuchKey", 404));
    expect(await adapter().get("nope")).toBeNull();
    const seen = fake(() => xmlError("NoSuchBucket", 404));
    expect(await failure(adapter().get("nope"))).toMatchObject({ s3Code: "NoSuchBucket", isMissingBucket: true });
    expect(seen).toHaveLength(1);
  });
});

describe("signing", () => {
  it("corrects RequestTimeTooSkewed from the server's Date and keeps the offset", async () => {
    const serverNow = () => Date.now() + 3_600_000;
    const dates: number[] = [];
    const seen = fake((req) => {
      const amz = req.headers.get("x-amz-date")!;
      const sent = Date.parse(`${amz.slice(0, 4)}-${amz.slice(4, 6)}-${amz.slice(6, 11)}:${amz.slice(11, 13)}:${amz.slice(13, 15)}Z`);
      dates.push(sent);
      if (Math.abs(sent - serverNow()) > 15 * 60_000) return xmlError("RequestTimeTooSkewed", 403, { date: new Date(serverNow()).toUTCString() });
      return ok();
    });
    const sleeps: number[] = [];
    const a = adapter({}, sleeps);
    await a.put("k", new Uint8Array([1]));
    expect(seen).toHaveLength(2);
    expect(sleeps).toEqual([]);
    await a.put("k2", new Uint8Array([1]));
    expect(seen).toHaveLength(3);
    expect(Math.abs(dates[2]! - serverNow())).toBeLessThan(60_000);
  });

  it("refreshes provider credentials once when the server says the token expired", async () => {
    let calls = 0;
    const seen = fake((_, i) => (i === 0 ? xmlError("ExpiredToken", 400) : ok()));
    const a = adapter({
      accessKeyId: undefined,
      secretAccessKey: undefined,
      credentials: async () => ({ accessKeyId: `AKIA${++calls}`, secretAccessKey: SECRET, sessionToken: `token-${calls}` }),
    });
    await a.put("k", new Uint8Array([1]));
    expect(calls).toBe(2);
    expect(seen.map((r) => r.headers.get("x-amz-security-token"))).toEqual(["token-1", "token-2"]);
  });

  it("signs the payload hash of every body and sends no Authorization-free request", async () => {
    const seen = fake(() => ok());
    await adapter().put("k", new TextEncoder().encode("hello"));
    expect(seen[0]!.headers.get("x-amz-content-sha256")).toBe(createHash("sha256").update("hello").digest("hex"));
    expect(seen[0]!.headers.get("authorization")).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAFAULTTEST\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=[^,]*x-amz-content-sha256/);
  });
});

describe("list", () => {
  const page = (keys: string[], next?: string, encoded = false) =>
    ok(
      `<ListBucketResult>${encoded ? "<EncodingType>url</EncodingType>" : ""}<IsTruncated>${next ? "true" : "false"}</IsTruncated>${
        next ? `<NextContinuationToken>${next}</NextContinuationToken>` : ""
      }${keys.map((k) => `<Contents><Key>${k}</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified><Size>7</Size></Contents>`).join("")}</ListBucketResult>`,
    );
  const all = async (prefix = "") => {
    const out = [];
    for await (const e of adapter().list(prefix)) out.push(e);
    return out;
  };

  it("decodes XML entities and url-encoded keys, page after page", async () => {
    const seen = fake((req) =>
      req.url.searchParams.get("continuation-token") === "t&1"
        ? page(["p%2Fb%2Bc+d", "%E6%97%A5%26"], undefined, true)
        : page(["a&amp;b", "&#26085;&lt;&#x1F389;"], "t&amp;1"),
    );
    expect(await all("p/")).toEqual([
      { key: "a&b", size: 7, lastModified: new Date("2026-01-02T03:04:05.000Z") },
      { key: "日<🎉", size: 7, lastModified: new Date("2026-01-02T03:04:05.000Z") },
      { key: "p/b+c d", size: 7, lastModified: new Date("2026-01-02T03:04:05.000Z") },
      { key: "日&", size: 7, lastModified: new Date("2026-01-02T03:04:05.000Z") },
    ]);
    expect(seen.map((r) => r.url.searchParams.get("prefix"))).toEqual(["p/", "p/"]);
    expect(seen[0]!.url.searchParams.get("list-type")).toBe("2");
  });

  it("stops with an error when the server repeats a continuation token", async () => {
    const seen = fake(() => page(["x"], "same"));
    const err = await failure(all());
    expect(String(err)).toMatch(/repeated a continuation token/);
    expect(seen).toHaveLength(2);
  });
});

describe("delete", () => {
  it("batches DeleteObjects by 1000 with a correct Content-MD5", async () => {
    const seen = fake(() => ok(`<DeleteResult></DeleteResult>`));
    const keys = Array.from({ length: 2500 }, (_, i) => `k/${i}&<`);
    await adapter().delete(keys);
    expect(seen).toHaveLength(3);
    for (const req of seen) {
      expect(req.url.searchParams.has("delete")).toBe(true);
      expect(req.headers.get("content-md5")).toBe(createHash("md5").update(req.body).digest("base64"));
    }
    const sent = seen.flatMap((r) => [...new TextDecoder().decode(r.body).matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]));
    expect(sent).toHaveLength(2500);
    expect(sent[0]).toBe("k/0&amp;&lt;");
  });

  it("reports every key that could not be deleted, ignoring NoSuchKey", async () => {
    const seen = fake(() =>
      ok(
        `<DeleteResult><Error><Key>a</Key><Code>AccessDenied</Code></Error><Error><Key>b</Key><Code>NoSuchKey</Code></Error><Error><Key>c &amp; d</Key><Code>InternalError</Code></Error></DeleteResult>`,
      ),
    );
    const err = await failure(adapter().delete(["a", "b", "c & d"]));
    expect(err).toBeInstanceOf(S3Error);
    expect(String(err)).toContain('2 of 3 keys could not be deleted: "a" (AccessDenied), "c & d" (InternalError)');
    expect(seen).toHaveLength(1);
  });

  it("falls back to one DELETE per key when DeleteObjects is not implemented", async () => {
    const seen = fake((req) => (req.method === "POST" ? xmlError("NotImplemented", 501) : new HttpResponse(null, { status: 204 })));
    await adapter().delete(["x", "y/z", "w+v"]);
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(seen.filter((r) => r.method === "DELETE").map((r) => decodeURIComponent(r.url.pathname)).sort()).toEqual(["/bkt/w+v", "/bkt/x", "/bkt/y/z"]);
  });
});

it("never puts the secret, a signature or an Authorization header into an error", () => {
  expect(watch.errorCount).toBeGreaterThanOrEqual(10);
  watch.assertClean([SECRET]);
});
