/**
 * A hostile or broken endpoint, answered through the adapter's `fetch` option: bodies far
 * larger than anything S3 sends, streamed from generators so the test itself never holds
 * them, and XML built to make a backtracking tag regex quadratic. Every answer the adapter
 * reads as text must be read up to a cap, the rest cancelled, and scanned in linear time; a
 * page it cannot read whole is a typed error, never a shorter listing.
 */

import { describe, expect, it } from "vitest";
import { s3Adapter, S3Error } from "../../src/adapters/s3.js";
import { xmlBlocks, xmlText } from "../../src/adapters/s3/xml.js";
import { ledger } from "../reliability/ledger.js";

const log = ledger(import.meta.filename);
const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 64 * KiB;
const MAX_ERROR_BODY = 64 * KiB;
const MAX_PAGE = 8 * MiB;
const MAX_ANSWER = MiB;
const encoder = new TextEncoder();

interface Probe {
  /** Bytes the adapter pulled from the body. */
  pulled: number;
  cancelled: boolean;
}

/**
 * `head`, then `unit` repeated in 64 KiB chunks until `bytes` more were sent, then `tail`;
 * pulled one chunk per read (no read-ahead), so `probe.pulled` is what the adapter asked for.
 */
function streamed(head: string, unit: string, bytes: number, tail = ""): { body: ReadableStream<Uint8Array>; probe: Probe } {
  const probe: Probe = { pulled: 0, cancelled: false };
  const chunk = encoder.encode(unit.repeat(Math.ceil(CHUNK / unit.length)));
  function* chunks() {
    yield encoder.encode(head);
    for (let sent = 0; sent < bytes; sent += chunk.length) yield chunk;
    yield encoder.encode(tail);
  }
  const source = chunks();
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = source.next();
        if (next.done) return controller.close();
        probe.pulled += next.value.length;
        controller.enqueue(next.value);
      },
      cancel() {
        probe.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { body, probe };
}

type Answer = (req: Request) => Response | undefined;

/** Adapter whose every request is answered by `answer` (then by a plain S3 protocol), recorded in `seen`. */
function adapter(answer: Answer, seen: Request[] = []) {
  return s3Adapter({
    bucket: "bkt",
    region: "us-east-1",
    endpoint: "http://s3.test",
    forcePathStyle: true,
    accessKeyId: "AKIAHOSTILE",
    secretAccessKey: "hostile-test-secret",
    maxAttempts: 3,
    partSize: 5 * MiB,
    multipartThreshold: 5 * MiB,
    retry: { sleep: async () => undefined },
    fetch: async (req) => {
      seen.push(req);
      return answer(req) ?? protocol(req);
    },
  });
}

/** What a well-behaved S3 answers to the requests these tests do not make hostile. */
function protocol(req: Request): Response {
  const q = new URL(req.url).searchParams;
  const xml = (text: string) => new Response(text, { status: 200, headers: { "x-amz-request-id": "req-ok" } });
  if (req.method === "POST" && q.has("uploads")) return xml("<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>");
  if (req.method === "PUT") return new Response(null, { status: 200, headers: { etag: '"e"' } });
  if (req.method === "POST" && q.has("uploadId")) return xml(`<CompleteMultipartUploadResult><ETag>"all"</ETag></CompleteMultipartUploadResult>`);
  if (req.method === "DELETE") return new Response(null, { status: 204 });
  return new Response("<Error><Code>UnexpectedRequest</Code></Error>", { status: 400 });
}

const ok = (body: ReadableStream<Uint8Array> | string) => new Response(body, { status: 200, headers: { "x-amz-request-id": "req-hostile" } });
const isList = (req: Request) => req.method === "GET" && new URL(req.url).searchParams.get("list-type") === "2";

async function rejection(promise: Promise<unknown>): Promise<S3Error> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected an S3Error, got ${JSON.stringify(outcome.value)?.slice(0, 200)}`);
  expect(outcome.error).toBeInstanceOf(S3Error);
  return outcome.error as S3Error;
}

async function listAll(a: ReturnType<typeof adapter>): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of a.list("backups/")) keys.push(entry.key);
  return keys;
}

function record(scenario: string, expected: string, observed: string) {
  log.record({ kind: "review", scenario, expected, observed, faults: 1, bytesLost: 0 });
}

describe("error bodies", () => {
  it("reads at most 64 KiB of a 200 MiB 403 body, cancels the rest, and still reports the typed AccessDenied", async () => {
    const head = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>req-403</RequestId><HostId>`;
    const { body, probe } = streamed(head, "x", 200 * MiB, "</HostId></Error>");
    const seen: Request[] = [];
    const rssBefore = process.memoryUsage().rss;
    const err = await rejection(adapter((req) => (req.method === "PUT" ? new Response(body, { status: 403 }) : undefined), seen).put("k", new Uint8Array([1])));
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    expect(err).toMatchObject({ s3Code: "AccessDenied", status: 403, requestId: "req-403", operation: "put", key: "k", attempts: 1, isAuthError: true });
    expect(seen).toHaveLength(1);
    expect(probe.cancelled).toBe(true);
    expect(probe.pulled).toBeLessThanOrEqual(MAX_ERROR_BODY + 2 * CHUNK);
    expect(rssGrowth).toBeLessThan(32 * MiB);
    record(
      "200 MiB 403 error body",
      "typed AccessDenied from the first bytes; body cancelled after 64 KiB",
      `S3Error ${err.s3Code} ${err.status}; pulled ${probe.pulled} bytes, cancelled; RSS +${Math.round(rssGrowth / MiB)} MiB`,
    );
  });
});

describe("answers longer than their cap", () => {
  it("fails a 24 MiB ListObjectsV2 page with a typed error after 8 MiB, instead of listing part of it", async () => {
    const { body, probe } = streamed(
      "<ListBucketResult><IsTruncated>false</IsTruncated>",
      "<Contents><Key>backups/k</Key><Size>1</Size></Contents>",
      24 * MiB,
      "</ListBucketResult>",
    );
    const seen: Request[] = [];
    const err = await rejection(listAll(adapter((req) => (isList(req) ? ok(body) : undefined), seen)));
    expect(err).toMatchObject({ operation: "list", status: 200, requestId: "req-hostile", attempts: 1 });
    expect(err.message).toMatch(/answer is longer than 8388608 bytes/);
    expect(seen).toHaveLength(1);
    expect(probe.cancelled).toBe(true);
    expect(probe.pulled).toBeLessThanOrEqual(MAX_PAGE + 2 * CHUNK);
    record("24 MiB ListObjectsV2 page", "typed error naming list; not a partial listing", `${err.message}; pulled ${probe.pulled} bytes`);
  });

  it("fails a 24 MiB DeleteObjects result with a typed error after 8 MiB", async () => {
    const { body, probe } = streamed("<DeleteResult>", "<Error><Key>a</Key><Code>AccessDenied</Code></Error>", 24 * MiB, "</DeleteResult>");
    const err = await rejection(adapter((req) => (req.method === "POST" && new URL(req.url).searchParams.has("delete") ? ok(body) : undefined)).delete(["a", "b"]));
    expect(err).toMatchObject({ operation: "delete", status: 200, attempts: 1 });
    expect(err.message).toMatch(/answer is longer than 8388608 bytes/);
    expect(probe.cancelled).toBe(true);
    expect(probe.pulled).toBeLessThanOrEqual(MAX_PAGE + 2 * CHUNK);
    record("24 MiB DeleteObjects result", "typed error naming delete", `${err.message}; pulled ${probe.pulled} bytes`);
  });

  it("fails an 8 MiB CreateMultipartUpload answer before sending any part", async () => {
    const { body, probe } = streamed("<InitiateMultipartUploadResult><UploadId>up-1</UploadId>", " ", 8 * MiB, "</InitiateMultipartUploadResult>");
    const seen: Request[] = [];
    const err = await rejection(
      adapter((req) => (req.method === "POST" && new URL(req.url).searchParams.has("uploads") ? ok(body) : undefined), seen).put("big", new Uint8Array(5 * MiB)),
    );
    expect(err).toMatchObject({ operation: "put (create multipart upload)", key: "big", status: 200, attempts: 1 });
    expect(err.message).toMatch(/answer is longer than 1048576 bytes/);
    expect(seen.filter((r) => r.method === "PUT")).toHaveLength(0);
    expect(probe.cancelled).toBe(true);
    expect(probe.pulled).toBeLessThanOrEqual(MAX_ANSWER + 2 * CHUNK);
    record("8 MiB CreateMultipartUpload answer", "typed error, no part sent", `${err.message}; pulled ${probe.pulled} bytes`);
  });

  it("fails an 8 MiB CompleteMultipartUpload answer and aborts the upload", async () => {
    const { body, probe } = streamed("", " ", 8 * MiB, `<CompleteMultipartUploadResult><ETag>"all"</ETag></CompleteMultipartUploadResult>`);
    const seen: Request[] = [];
    const err = await rejection(
      adapter((req) => (req.method === "POST" && new URL(req.url).searchParams.has("uploadId") ? ok(body) : undefined), seen).put("big", new Uint8Array(5 * MiB)),
    );
    expect(err).toMatchObject({ operation: "put (complete multipart upload)", key: "big", status: 200, attempts: 1 });
    expect(err.message).toMatch(/answer is longer than 1048576 bytes/);
    expect(seen.filter((r) => r.method === "DELETE")).toHaveLength(1);
    expect(probe.cancelled).toBe(true);
    expect(probe.pulled).toBeLessThanOrEqual(MAX_ANSWER + 2 * CHUNK);
    record("8 MiB CompleteMultipartUpload answer", "typed error, upload aborted", `${err.message}; pulled ${probe.pulled} bytes`);
  });
});

describe("XML that does not parse", () => {
  const unclosed = (n: number) => `<ListBucketResult><IsTruncated>false</IsTruncated>${"<Contents ".repeat(n)}</ListBucketResult>`;
  const wellFormed = (bytes: number) => {
    const entry = (i: number) => `<Contents><Key>backups/${String(i).padStart(8, "0")}</Key><Size>1</Size></Contents>`;
    const count = Math.ceil(bytes / entry(0).length);
    return `<ListBucketResult><IsTruncated>false</IsTruncated>${Array.from({ length: count }, (_, i) => entry(i)).join("")}</ListBucketResult>`;
  };
  /** Best of three, so one scheduler hiccup does not decide. */
  async function fastest(run: () => Promise<unknown>): Promise<number> {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      await run();
      best = Math.min(best, performance.now() - start);
    }
    return best;
  }

  it("reports 10k/20k/40k unclosed <Contents tags as a typed error, in time linear in the page", async () => {
    const observed: string[] = [];
    for (const n of [10_000, 20_000, 40_000]) {
      const page = unclosed(n);
      const seen: Request[] = [];
      const err = await rejection(listAll(adapter((req) => (isList(req) ? ok(page) : undefined), seen)));
      expect(err).toMatchObject({ operation: "list", status: 200, requestId: "req-hostile", attempts: 1 });
      expect(err.message).toMatch(/leaves <Contents> unclosed/);
      expect(seen).toHaveLength(1);
      observed.push(`${n}: typed error`);
    }
    // The page a backtracking regex took 5.4 s over, against a well-formed page of the same
    // size listed in the same process: a linear scan fails the first faster than it lists the second.
    const hostile = unclosed(40_000);
    const normal = wellFormed(hostile.length);
    const hostileMs = await fastest(() => listAll(adapter((req) => (isList(req) ? ok(hostile) : undefined))).catch(() => undefined));
    const normalMs = await fastest(async () => expect((await listAll(adapter((req) => (isList(req) ? ok(normal) : undefined)))).length).toBeGreaterThan(5000));
    expect(hostileMs).toBeLessThan(10 * normalMs);
    record(
      "10k/20k/40k unclosed <Contents tags in a ListObjectsV2 page",
      "typed error (never an empty listing), linear time",
      `${observed.join(", ")}; 40k page ${hostileMs.toFixed(1)} ms vs ${normalMs.toFixed(1)} ms for a well-formed page of ${hostile.length} bytes`,
    );
  });

  it("reports a listing page cut short (root never closed) as a typed error, not as the keys before the cut", async () => {
    const page = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>backups/a</Key><Size>1</Size></Contents><Contents><Key>backups/b</Key>";
    const err = await rejection(listAll(adapter((req) => (isList(req) ? ok(page) : undefined))));
    expect(err).toMatchObject({ operation: "list", status: 200, attempts: 1 });
    expect(err.message).toMatch(/leaves <ListBucketResult> unclosed/);
    record("ListObjectsV2 page cut short", "typed error, not a shorter listing", err.message);
  });

  it("reports a DeleteObjects result with an unclosed <Error> as a typed error, not as success", async () => {
    const result = "<DeleteResult><Error><Key>a</Key><Code>AccessDenied</Code></DeleteResult>";
    const err = await rejection(adapter((req) => (req.method === "POST" && new URL(req.url).searchParams.has("delete") ? ok(result) : undefined)).delete(["a"]));
    expect(err).toMatchObject({ operation: "delete", status: 200, attempts: 1 });
    expect(err.message).toMatch(/leaves <Error> unclosed/);
    record("DeleteObjects result with an unclosed <Error>", "typed error, not success", err.message);
  });

  it("reports a ListMultipartUploads page with an unclosed <Upload> as a typed error, not as fewer uploads to clean up", async () => {
    const page = `<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload><Key>backups/q-1</Key><UploadId>u1</UploadId><Initiated>2020-01-01T00:00:00Z</Initiated></Upload>${"<Upload ".repeat(10_000)}</ListMultipartUploadsResult>`;
    const isUploads = (req: Request) => req.method === "GET" && new URL(req.url).searchParams.has("uploads");
    const seen: Request[] = [];
    const err = await rejection(adapter((req) => (isUploads(req) ? ok(page) : undefined), seen).cleanupIncomplete!("backups/", new Date()));
    expect(err).toMatchObject({ operation: "list multipart uploads", status: 200, attempts: 1 });
    expect(err.message).toMatch(/leaves <Upload> unclosed/);
    expect(seen.filter((r) => r.method === "DELETE")).toHaveLength(0);
    record("ListMultipartUploads page with 10k unclosed <Upload tags", "typed error, nothing aborted", err.message);
  });

  it("rejects hostile shapes when strict, reads what came before when not, and tells <Key> from <KeyCount>", () => {
    const n = 40_000;
    for (const xml of ["<Contents ".repeat(n), `${"<Contents ".repeat(n)}>`, "<Contents>".repeat(n), `<Contents x="${"<".repeat(n)}">`]) {
      expect(() => xmlBlocks(xml, "Contents", true)).toThrow(/leaves <Contents> unclosed/);
      expect(xmlBlocks(xml, "Contents")).toEqual([]);
      expect(xmlText(xml, "Contents")).toBeUndefined();
    }
    expect(xmlBlocks("<R><KeyCount>2</KeyCount><Key>a</Key><Key/><Key x='1' /></R>", "Key", true)).toEqual(["a", "", ""]);
    expect(xmlText("<R><Error><Code>SlowDown</Code><Message>cut", "Code")).toBe("SlowDown");
    expect(xmlText("<R><Error><Code>SlowDown</Code><Message>cut", "Message")).toBeUndefined();
  });
});
