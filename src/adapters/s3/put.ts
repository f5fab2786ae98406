/**
 * PutObject and multipart upload. Below the threshold: one PUT. Above it: equal parts, at
 * most `concurrency` in flight while the next one fills, each sent as bytes with a known
 * length and its SHA-256 so the server rejects a corrupted part; any failure or abort stops
 * the other parts and aborts the upload, so no half-written object or orphaned upload stays.
 *
 * Under Object Lock every PUT and part also carries `Content-MD5`: AWS and Backblaze B2
 * refuse locked writes without it (B2 takes no `x-amz-checksum-sha256`, so MD5 is the one
 * checksum every provider accepts). It is not sent otherwise: the SHA-256 payload hash
 * already guards integrity, and where `node:crypto` is missing MD5 costs a pure-JS pass per part.
 */

import { throwIfAborted } from "../../errors.js";
import type { Body, PutOptions } from "../../types.js";
import { cleanupSignal } from "../../util/streams.js";
import { bodyChunks, discardBody } from "../body.js";
import { drain, etagOf, responseFailure, type S3Client } from "./client.js";
import { S3Error } from "./errors.js";
import { md5Base64 } from "./hash.js";
import { MAX_PART_SIZE, MAX_PARTS } from "./options.js";
import { bufferPool, sliceParts, streamParts } from "./parts.js";
import { escapeXml, readXml, xmlText } from "./xml.js";

const MiB = 1024 * 1024;
/** Create and Complete answer with a key, an upload id and an ETag (Complete may send keep-alive whitespace first). */
const MAX_ANSWER = MiB;
const MARK = "x-amz-meta-backupper-upload";

/** The configured part size, grown (in whole MiB) until `sizeHint` bytes fit in 10 000 parts. */
export function partSizeFor(partSize: number, sizeHint: number | undefined): number {
  if (sizeHint === undefined || !(sizeHint > partSize * MAX_PARTS)) return partSize;
  return Math.min(MAX_PART_SIZE, Math.ceil(sizeHint / MAX_PARTS / MiB) * MiB);
}

type PutResult = { etag?: string; retainUntil?: string };

/** `Content-MD5` for a body, when the object lock requires it. */
export function digestHeaders(client: S3Client, body: Uint8Array): Record<string, string> {
  return client.options.objectLock ? { "content-md5": md5Base64(body) } : {};
}

export async function putObject(client: S3Client, key: string, body: Body, opts: PutOptions = {}): Promise<PutResult> {
  const { signal } = opts;
  const { objectLock, createHeaders } = client.options;
  const partSize = partSizeFor(client.options.partSize, opts.sizeHint);
  const headers: Record<string, string> = { "content-type": opts.contentType ?? "application/octet-stream", ...createHeaders };
  const lock: PutResult = {};
  if (objectLock) {
    lock.retainUntil = new Date(Date.now() + objectLock.retainDays * 86_400_000).toISOString();
    headers["x-amz-object-lock-mode"] = objectLock.mode;
    headers["x-amz-object-lock-retain-until-date"] = lock.retainUntil;
  }
  try {
    throwIfAborted(signal);
  } catch (err) {
    discardBody(body, err);
    throw err;
  }
  // Parts stop being read as soon as the upload fails, not only when the caller aborts.
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const pool = bufferPool(partSize);
  const parts =
    body instanceof Uint8Array ? sliceParts(body, partSize) : streamParts(bodyChunks(body, stop.signal), partSize, pool);
  try {
    const first = await parts.next();
    const firstPart = first.done ? new Uint8Array(0) : first.value;
    if (firstPart.length < client.options.multipartThreshold) {
      const res = await client.request(
        { operation: "put", method: "PUT", key, headers: { ...headers, ...digestHeaders(client, firstPart) }, body: firstPart, signal },
        etagOf,
      );
      return res === undefined ? lock : { ...lock, etag: res };
    }
    const etag = await multipart(client, key, headers, firstPart, parts, pool, partSize, stop, signal);
    if (objectLock) await lockObject(client, key, objectLock.mode, lock.retainUntil!, signal);
    return etag === undefined ? lock : { ...lock, etag };
  } finally {
    signal?.removeEventListener("abort", onAbort);
    await parts.return(undefined);
  }
}

/**
 * Sets the retention again on the completed object: Ceph RGW 16 accepts the lock headers on
 * CreateMultipartUpload and then writes the object unlocked. Same mode and date, so AWS,
 * where the object already carries them, accepts it as a no-op (COMPLIANCE refuses only a shortening).
 */
async function lockObject(client: S3Client, key: string, mode: string, until: string, signal: AbortSignal | undefined): Promise<void> {
  const body = new TextEncoder().encode(`<Retention><Mode>${mode}</Mode><RetainUntilDate>${until}</RetainUntilDate></Retention>`);
  await client.request(
    {
      operation: "put (object retention)",
      method: "PUT",
      key,
      query: { retention: "" },
      headers: { "content-md5": md5Base64(body), "content-type": "application/xml" },
      body,
      signal,
    },
    drain,
  );
}

async function multipart(
  client: S3Client,
  key: string,
  headers: Record<string, string>,
  first: Uint8Array,
  rest: Iterator<Uint8Array> | AsyncIterator<Uint8Array>,
  pool: ReturnType<typeof bufferPool>,
  partSize: number,
  stop: AbortController,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  // Names this upload on the object it completes into, so a Complete whose answer was lost can be recognised.
  const mark = crypto.randomUUID();
  const uploadId = await client.request(
    {
      operation: "put (create multipart upload)",
      method: "POST",
      key,
      query: { uploads: "" },
      headers: { ...headers, [MARK]: mark },
      signal,
    },
    async (r) => xmlText(await readXml(r, MAX_ANSWER, true), "UploadId"),
  );
  if (!uploadId) throw client.error({ operation: "put (create multipart upload)", key }, "the server returned no UploadId");

  const etags: string[] = [];
  let size = 0;
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  const upload = (partNumber: number, part: Uint8Array) => {
    const task = client
      .request(
        {
          operation: `put (part ${partNumber})`,
          method: "PUT",
          key,
          query: { partNumber: String(partNumber), uploadId },
          headers: { ...client.options.keyHeaders, ...digestHeaders(client, part) },
          body: part,
          signal: stop.signal,
        },
        etagOf,
      )
      .then(
        (etag) => {
          if (!etag) throw client.error({ operation: `put (part ${partNumber})`, key }, "the server returned no ETag");
          etags[partNumber - 1] = etag;
          pool.give(part);
        },
      )
      .catch((err: unknown) => {
        failure ??= err;
        stop.abort(err);
      })
      .finally(() => inflight.delete(task));
    inflight.add(task);
  };

  try {
    let partNumber = 0;
    for (let part: Uint8Array | undefined = first; part !== undefined; ) {
      if (++partNumber > MAX_PARTS) {
        throw client.error(
          { operation: "put", key },
          `the body needs more than ${MAX_PARTS} parts of ${partSize} bytes; pass sizeHint or a larger partSize`,
        );
      }
      size += part.length;
      upload(partNumber, part);
      while (inflight.size >= client.options.concurrency) await Promise.race(inflight);
      if (failure !== undefined) break;
      const next = await rest.next();
      part = next.done ? undefined : next.value;
    }
    await Promise.all(inflight);
    if (failure !== undefined) throw failure;
    throwIfAborted(signal);
    return await complete(client, key, uploadId, etags, signal, { mark, size });
  } catch (err) {
    stop.abort(err);
    await Promise.all(inflight);
    await abortUpload(client, key, uploadId, cleanupSignal(signal));
    throw failure ?? err;
  }
}

async function complete(
  client: S3Client,
  key: string,
  uploadId: string,
  etags: string[],
  signal: AbortSignal | undefined,
  expected: { mark: string; size: number },
): Promise<string | undefined> {
  const xml = `<CompleteMultipartUpload>${etags
    .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`)
    .join("")}</CompleteMultipartUpload>`;
  const operation = "put (complete multipart upload)";
  try {
    return await client.request(
      {
        operation,
        method: "POST",
        key,
        query: { uploadId },
        headers: { "content-type": "application/xml" },
        body: new TextEncoder().encode(xml),
        signal,
      },
      async (r) => {
        // S3 may answer 200 and report the failure in the body, even after a delay.
        const text = await readXml(r, MAX_ANSWER, true);
        if (!text.includes("<CompleteMultipartUploadResult")) throw responseFailure(r, text, "CompleteMultipartUpload answered 200 without a result");
        // Ceph RGW 16 answers an empty <ETag/> here; the object's ETag is then only on HEAD.
        return xmlText(text, "ETag") || undefined;
      },
    );
  } catch (err) {
    // MinIO forgets an upload once completed, so a Complete retried after its first answer was
    // lost gets NoSuchUpload where AWS answers success (minio/minio#13318): the object tells.
    if (!(err instanceof S3Error && err.s3Code === "NoSuchUpload")) throw err;
    const found = await client
      .request({ operation, method: "HEAD", key, headers: client.options.keyHeaders, signal }, async (r) => r.headers)
      .catch(() => undefined);
    if (found?.get(MARK) !== expected.mark || found.get("content-length") !== String(expected.size)) throw err;
    return found.get("etag") ?? undefined;
  }
}


/**
 * Best effort, and deliberately without the caller's signal: an aborted put must still
 * remove its upload (under `cleanupSignal`'s short deadline, so an abort is not held by an
 * outage). If even this fails, a later prune's cleanup of incomplete uploads, or the bucket's
 * lifecycle rule, removes it.
 */
async function abortUpload(client: S3Client, key: string, uploadId: string, signal: AbortSignal | undefined): Promise<void> {
  await client
    .request(
      { operation: "put (abort multipart upload)", method: "DELETE", key, query: { uploadId }, signal },
      drain,
    )
    .catch(() => undefined);
}
