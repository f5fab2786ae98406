/**
 * What particular providers answer, in the form they send it, injected through the adapter's
 * `fetch`: MinIO's NoSuchUpload on a retried Complete, Google Cloud Storage's refusal of
 * DeleteObjects, AWS's region hint, a bare 408, Object Lock's Content-MD5 requirement (AWS,
 * Backblaze B2), archived storage classes, SSE-C, and undici's bare `fetch failed`.
 */

import { createHash } from "node:crypto";
import { once } from "node:events";
import { type AddressInfo, createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { s3Adapter, S3Error, type S3AdapterOptions } from "../../src/adapters/s3.js";
import { resolveS3Options } from "../../src/adapters/s3/options.js";
import { planRetention } from "../../src/retention/policy.js";
import { secretWatch } from "../helpers/s3-secrets.js";

const SECRET = "provider-test-secret-Qx93";
const SSE_C_KEY = Buffer.alloc(32, 7).toString("base64");
const MiB = 1024 * 1024;
const watch = secretWatch();

interface Seen {
  method: string;
  url: URL;
  headers: Headers;
  body: Uint8Array;
}

const xml = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`, { status, headers: { "content-type": "application/xml", ...headers } });
const ok = (body: string | null = null, headers: Record<string, string> = {}) => new Response(body, { status: 200, headers: { etag: '"e"', ...headers } });

function adapter(respond: (req: Seen, n: number) => Response | Promise<Response>, overrides: Partial<S3AdapterOptions> = {}) {
  const seen: Seen[] = [];
  const s3 = s3Adapter({
    bucket: "bkt",
    region: "us-east-1",
    endpoint: "http://s3.test",
    forcePathStyle: true,
    accessKeyId: "AKIAPROVIDERS",
    secretAccessKey: SECRET,
    maxAttempts: 3,
    retry: { sleep: async () => undefined },
    fetch: watch.fetch(async (request) => {
      const req = { method: request.method, url: new URL(request.url), headers: request.headers, body: new Uint8Array(await request.arrayBuffer()) };
      seen.push(req);
      return respond(req, seen.length - 1);
    }),
    ...overrides,
  });
  return { s3, seen };
}

async function failure(promise: Promise<unknown>): Promise<S3Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => watch.seen(e),
  );
  expect(err).toBeInstanceOf(S3Error);
  return err as S3Error;
}

const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("base64");
const bytes = (n: number) => new Uint8Array(n).map((_, i) => i % 251);

/** A multipart server; `complete` may replace the Complete answer, `head` answers HEAD. */
function multipartServer(hooks: { complete?: (n: number, req: Seen) => Response | Promise<Response>; head?: (create: Seen) => Response }) {
  let create: Seen | undefined;
  let completes = 0;
  return (req: Seen): Response | Promise<Response> => {
    const q = req.url.searchParams;
    if (req.method === "POST" && q.has("uploads")) {
      create = req;
      return ok(`<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>`);
    }
    if (req.method === "PUT") return ok(null, { etag: `"p${q.get("partNumber")}"` });
    if (req.method === "POST" && q.has("uploadId")) {
      const injected = hooks.complete?.(++completes, req);
      return injected ?? ok(`<CompleteMultipartUploadResult><ETag>"all"</ETag></CompleteMultipartUploadResult>`);
    }
    if (req.method === "HEAD") return hooks.head?.(create!) ?? new Response(null, { status: 404 });
    if (req.method === "DELETE") return new Response(null, { status: 204 });
    return xml(400, "<Error><Code>Unexpected</Code></Error>");
  };
}

// MinIO's answer to a Complete of an upload it already completed (minio/minio#13318).
const minioNoSuchUpload = () =>
  xml(
    404,
    "<Error><Code>NoSuchUpload</Code><Message>The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.</Message><Key>k</Key><BucketName>bkt</BucketName><Resource>/bkt/k</Resource><RequestId>17A0B1C2D3E4F5A6</RequestId><HostId>dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8</HostId></Error>",
  );
const lostAnswer = () => Promise.reject(new TypeError("fetch failed", { cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }) }));

describe("MinIO: a retried CompleteMultipartUpload", () => {
  const body = bytes(6 * MiB);
  const opts = { partSize: 5 * MiB };

  it("succeeds when the object is there with this upload's mark and size", async () => {
    const { s3, seen } = adapter(
      multipartServer({
        complete: (n) => (n === 1 ? lostAnswer() : minioNoSuchUpload()),
        head: (create) =>
          new Response(null, {
            status: 200,
            headers: { etag: '"done-2"', "content-length": String(body.length), "x-amz-meta-backupper-upload": create.headers.get("x-amz-meta-backupper-upload")! },
          }),
      }),
      opts,
    );
    await expect(s3.put("k", body)).resolves.toEqual({ etag: '"done-2"' });
    expect(seen.filter((r) => r.method === "HEAD")).toHaveLength(1);
    expect(seen.some((r) => r.method === "DELETE")).toBe(false);
  });

  it("fails with NoSuchUpload when the object there is another upload's", async () => {
    const { s3, seen } = adapter(
      multipartServer({
        complete: (n) => (n === 1 ? lostAnswer() : minioNoSuchUpload()),
        head: () => new Response(null, { status: 200, headers: { "content-length": String(body.length), "x-amz-meta-backupper-upload": "someone-else" } }),
      }),
      opts,
    );
    const err = await failure(s3.put("k", body));
    expect(err.s3Code).toBe("NoSuchUpload");
    expect(seen.filter((r) => r.method === "DELETE" && r.url.searchParams.has("uploadId"))).toHaveLength(1);
  });
});

describe("Google Cloud Storage: no multi-object delete", () => {
  it.each([
    [400, "<Error><Code>InvalidArgument</Code><Message>Invalid argument.</Message><Details>Invalid query parameter(s): [delete]</Details></Error>"],
    [501, "<Error><Code>NotImplemented</Code><Message>A header or query you provided requested a function that is not implemented.</Message><Details>POST ?delete is not implemented for objects.</Details></Error>"],
  ])("falls back to one DELETE per key on HTTP %i", async (status, doc) => {
    const { s3, seen } = adapter((req) => (req.method === "POST" ? xml(status, doc) : new Response(null, { status: 204 })));
    await s3.delete(["a", "b/c", "d"]);
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(seen.filter((r) => r.method === "DELETE").map((r) => r.url.pathname).sort()).toEqual(["/bkt/a", "/bkt/b/c", "/bkt/d"]);
  });
});

describe("retries", () => {
  it("retries a bare 408 without an error document", async () => {
    const { s3, seen } = adapter((_, n) => (n === 0 ? new Response("", { status: 408 }) : ok()));
    await s3.put("k", bytes(10));
    expect(seen).toHaveLength(2);
  });
});

describe("keys", () => {
  it.each(["a/../b", "./x", "a/.", ".."])("refuses %s before sending anything", async (key) => {
    const { s3, seen } = adapter(() => ok());
    const err = await failure(s3.put(key, bytes(1)));
    expect(err.message).toContain('"." or ".." path segments');
    expect(err.key).toBe(key);
    expect(seen).toHaveLength(0);
  });

  it("still accepts dots inside a segment", async () => {
    const { s3, seen } = adapter(() => ok());
    await s3.put("a/..b/.c", bytes(1));
    expect(seen[0]!.url.pathname).toBe("/bkt/a/..b/.c");
  });
});

describe("network errors", () => {
  it("name the endpoint and the refused address (a real connection to a closed port)", async () => {
    const listener = createServer().listen(0, "127.0.0.1");
    await once(listener, "listening");
    const { port } = listener.address() as AddressInfo;
    await new Promise((resolve) => listener.close(resolve));
    const endpoint = `http://127.0.0.1:${port}`;
    const s3 = s3Adapter({ bucket: "bkt", region: "us-east-1", endpoint, accessKeyId: "A", secretAccessKey: SECRET, maxAttempts: 1 });
    const err = await failure(s3.put("k", bytes(1)));
    expect(err.message).toContain(`request to ${endpoint} failed`);
    expect(err.message).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
  });

  it("name a DNS failure from undici's cause", async () => {
    const dns = Object.assign(new Error("getaddrinfo ENOTFOUND s3.nowhere.invalid"), { code: "ENOTFOUND", hostname: "s3.nowhere.invalid" });
    const { s3 } = adapter(() => Promise.reject(new TypeError("fetch failed", { cause: dns })), { maxAttempts: 1 });
    const err = await failure(s3.get("k"));
    expect(err.message).toContain("fetch failed: getaddrinfo ENOTFOUND s3.nowhere.invalid");
  });

  it("name a TLS error and its code", async () => {
    const tls = Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" });
    const { s3 } = adapter(() => Promise.reject(new TypeError("fetch failed", { cause: tls })), { maxAttempts: 1 });
    const err = await failure(s3.get("k"));
    expect(err.message).toContain("does not match certificate's altnames (ERR_TLS_CERT_ALTNAME_INVALID)");
  });
});

describe("signing region", () => {
  it("says the region is wrong, not the credentials, on AWS's AuthorizationHeaderMalformed", async () => {
    const { s3, seen } = adapter(() =>
      xml(
        400,
        "<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-central-1'</Message><Region>eu-central-1</Region><RequestId>8CRVD2W7QJPSN3RB</RequestId><HostId>x</HostId></Error>",
      ),
    );
    const err = await failure(s3.get("k"));
    expect(err.message).toContain('signing region "us-east-1" is wrong, the server expects "eu-central-1"');
    expect(err.expectedRegion).toBe("eu-central-1");
    expect(err.isAuthError).toBe(false);
    expect(seen).toHaveLength(1);
  });

  it("reads the expected region from a message when there is no <Region>", async () => {
    const { s3 } = adapter(() => xml(400, "<Error><Code>AuthorizationHeaderMalformed</Code><Message>Invalid region: us-east-1, expected garage</Message></Error>"));
    const err = await failure(s3.get("k"));
    expect(err.expectedRegion).toBe("garage");
  });

  it("leaves a real credential error an auth error", async () => {
    const { s3 } = adapter(() => xml(403, "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error>"));
    const err = await failure(s3.get("k"));
    expect(err.isAuthError).toBe(true);
    expect(err.expectedRegion).toBeUndefined();
  });
});

describe("addressing", () => {
  const base = { region: "eu-west-1", accessKeyId: "A", secretAccessKey: SECRET };
  it("goes path-style for a dotted bucket over TLS, as the AWS SDKs do", () => {
    expect(resolveS3Options({ ...base, bucket: "backups.example.com" }).bucketUrl).toBe("https://s3.eu-west-1.amazonaws.com/backups.example.com");
    expect(resolveS3Options({ ...base, bucket: "backups-example" }).bucketUrl).toBe("https://backups-example.s3.eu-west-1.amazonaws.com");
    expect(resolveS3Options({ ...base, bucket: "a.b", forcePathStyle: false }).bucketUrl).toBe("https://a.b.s3.eu-west-1.amazonaws.com");
  });
});

// AWS's answer to a locked PUT without a checksum; B2 answers the same code and accepts only Content-MD5.
const needsMd5 = () =>
  xml(400, "<Error><Code>InvalidRequest</Code><Message>Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters</Message></Error>");
const lockServer = (req: Seen) => {
  const md5Header = req.headers.get("content-md5");
  if (req.method === "PUT" && (!md5Header || md5Header !== md5(req.body))) return needsMd5();
  return multipartServer({})(req);
};

describe("Object Lock", () => {
  const lock = { objectLock: { mode: "COMPLIANCE" as const, retainDays: 30 } };

  it("sends the lock headers and Content-MD5 on a single PUT, and returns the retain-until time", async () => {
    const { s3, seen } = adapter(lockServer, lock);
    const before = Date.now();
    const { retainUntil } = await s3.put("k", bytes(1000));
    const until = Date.parse(retainUntil!);
    expect(until).toBeGreaterThanOrEqual(before + 30 * 86_400_000);
    expect(until).toBeLessThan(Date.now() + 30 * 86_400_000 + 1000);
    expect(seen[0]!.headers.get("x-amz-object-lock-mode")).toBe("COMPLIANCE");
    expect(seen[0]!.headers.get("x-amz-object-lock-retain-until-date")).toBe(retainUntil);
    expect(s3.objectLock).toEqual(lock.objectLock);
  });

  it("sends them on Create and Content-MD5 on every part", async () => {
    const { s3, seen } = adapter(lockServer, { ...lock, partSize: 5 * MiB });
    await s3.put("k", new Blob([bytes(11 * MiB)]).stream());
    const create = seen.find((r) => r.url.searchParams.has("uploads"))!;
    expect(create.headers.get("x-amz-object-lock-mode")).toBe("COMPLIANCE");
    const parts = seen.filter((r) => r.url.searchParams.has("partNumber"));
    expect(parts).toHaveLength(3);
    for (const p of parts) expect(p.headers.get("content-md5")).toBe(md5(p.body));
    // Ceph RGW 16 writes a multipart object unlocked: the retention is set again after Complete.
    const retention = seen.filter((r) => r.url.searchParams.has("retention"));
    expect(retention).toHaveLength(1);
    expect(new TextDecoder().decode(retention[0]!.body)).toBe(
      `<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>${create.headers.get("x-amz-object-lock-retain-until-date")}</RetainUntilDate></Retention>`,
    );
    expect(seen.indexOf(retention[0]!)).toBe(seen.length - 1);
  });

  it("sends no Content-MD5 without a lock (the SHA-256 payload hash covers integrity)", async () => {
    const { s3, seen } = adapter(() => ok());
    await s3.put("k", bytes(10));
    expect(seen[0]!.headers.has("content-md5")).toBe(false);
    expect(s3.objectLock).toBeUndefined();
  });

  it("retention keeps a backup still locked, with the reason", () => {
    const now = Date.parse("2026-06-01T00:00:00Z");
    const b = (day: number, lockedUntil?: string) => ({ key: `k${day}`, timestamp: new Date(Date.UTC(2026, 4, day)), verified: true, lockedUntil });
    const decisions = planRetention([b(30), b(2, "2026-06-02T00:00:00.000Z"), b(1, "2026-05-31T00:00:00.000Z")], { last: 1 }, new Set(), now);
    expect(decisions.map((d) => [d.key, d.keep, d.reasons])).toEqual([
      ["k30", true, ["last", "newest verified"]],
      ["k2", true, ["locked until 2026-06-02T00:00:00.000Z"]],
      ["k1", false, ["outside policy"]],
    ]);
  });

  it.each([
    [{ mode: "governance", retainDays: 1 }, "objectLock.mode"],
    [{ mode: "GOVERNANCE", retainDays: 0 }, "objectLock.retainDays"],
  ])("rejects %j naming the option", (objectLock, option) => {
    expect(() => s3Adapter({ bucket: "b-1", region: "r", accessKeyId: "A", secretAccessKey: "S", objectLock } as S3AdapterOptions)).toThrow(
      expect.objectContaining({ option }),
    );
  });
});

describe("storage class and server-side encryption", () => {
  it("sends storage class and SSE-KMS on create, not on parts", async () => {
    const { s3, seen } = adapter(multipartServer({}), { storageClass: "STANDARD_IA", sse: { kmsKeyId: "arn:aws:kms:k" }, partSize: 5 * MiB });
    await s3.put("k", bytes(6 * MiB));
    const create = seen.find((r) => r.url.searchParams.has("uploads"))!;
    expect(create.headers.get("x-amz-storage-class")).toBe("STANDARD_IA");
    expect(create.headers.get("x-amz-server-side-encryption")).toBe("aws:kms");
    expect(create.headers.get("x-amz-server-side-encryption-aws-kms-key-id")).toBe("arn:aws:kms:k");
    for (const p of seen.filter((r) => r.url.searchParams.has("partNumber"))) expect(p.headers.has("x-amz-storage-class")).toBe(false);
  });

  it("sends the SSE-C key on PUT, UploadPart and GET, and never puts it in an error", async () => {
    const keyMd5 = createHash("md5").update(Buffer.from(SSE_C_KEY, "base64")).digest("base64");
    const respond = (req: Seen) => (req.method === "GET" ? xml(403, "<Error><Code>AccessDenied</Code><Message>denied</Message></Error>") : multipartServer({})(req));
    const { s3, seen } = adapter(respond, { sseCustomerKey: SSE_C_KEY, partSize: 5 * MiB });
    await s3.put("small", bytes(10));
    await s3.put("big", bytes(6 * MiB));
    await failure(s3.get("big"));
    const carrying = seen.filter((r) => r.headers.get("x-amz-server-side-encryption-customer-key") === SSE_C_KEY);
    expect(carrying.map((r) => `${r.method} ${r.url.searchParams.has("partNumber") ? "part" : r.url.searchParams.has("uploads") ? "create" : r.url.pathname}`)).toEqual(
      expect.arrayContaining(["PUT /bkt/small", "POST create", "PUT part", "GET /bkt/big"]),
    );
    for (const r of carrying) expect(r.headers.get("x-amz-server-side-encryption-customer-key-md5")).toBe(keyMd5);
    watch.assertClean([SECRET, SSE_C_KEY]);
  });

  it.each([
    [{ sseCustomerKey: "c2hvcnQ=" }, "sseCustomerKey"],
    [{ sseCustomerKey: SSE_C_KEY, sse: "AES256" }, "sseCustomerKey"],
    [{ sse: "aws:kms" }, "sse"],
    [{ sse: { kmsKeyId: "" } }, "sse.kmsKeyId"],
    [{ storageClass: "" }, "storageClass"],
  ])("rejects %j naming the option, never repeating a key", (extra, option) => {
    const make = () => s3Adapter({ bucket: "b-1", region: "r", accessKeyId: "A", secretAccessKey: "S", ...extra } as S3AdapterOptions);
    expect(make).toThrow(expect.objectContaining({ option }));
    expect(make).not.toThrow(SSE_C_KEY);
  });

  it("names the storage class when an archived object cannot be read", async () => {
    const { s3 } = adapter((req) =>
      req.method === "HEAD"
        ? new Response(null, { status: 200, headers: { "x-amz-storage-class": "DEEP_ARCHIVE" } })
        : xml(
            403,
            "<Error><Code>InvalidObjectState</Code><Message>The operation is not valid for the object's storage class</Message><StorageClass>DEEP_ARCHIVE</StorageClass><RequestId>R1</RequestId></Error>",
          ),
    );
    const err = await failure(s3.get("k"));
    expect(err.message).toContain("archived in storage class DEEP_ARCHIVE");
    expect(err.message).toContain("RestoreObject");
  });
});

it("never puts a secret, a signature or an Authorization header into an error", () => {
  expect(watch.errorCount).toBeGreaterThanOrEqual(8);
  watch.assertClean([SECRET, SSE_C_KEY]);
});
