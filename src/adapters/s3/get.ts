/**
 * GetObject as a stream that survives a broken connection: GET is idempotent, so when the
 * body stops short of its Content-Length (or the connection resets) the rest is fetched with
 * a Range request from the byte already delivered, pinned to the same object by `If-Match`
 * on its ETag, so a replaced object is never spliced onto the old one's bytes. Breaks and the
 * resuming requests share the adapter's retry budget (`retryFor`), which starts over once a
 * resume delivers bytes. The reader sees one continuous stream, or an error once retries run out.
 */

import { toAbortedError } from "../../errors.js";
import type { GetOptions, GetResult } from "../../types.js";
import { drain, type S3Client } from "./client.js";
import { S3Error } from "./errors.js";
import { attemptsMade, networkProblem, Stalled, unreachableFor, waitToRetry } from "./retry-report.js";

export async function getObject(client: S3Client, key: string, opts: GetOptions = {}): Promise<GetResult | null> {
  const { signal } = opts;
  const operation = "get";
  const { keyHeaders } = client.options;
  let res: Response;
  try {
    res = await client.request({ operation, method: "GET", key, headers: keyHeaders, signal }, async (r) => r);
  } catch (err) {
    if (err instanceof S3Error && err.s3Code === "NoSuchKey") return null;
    if (err instanceof S3Error && err.s3Code === "InvalidObjectState") {
      // Archived (GLACIER, DEEP_ARCHIVE): a HEAD still answers, and names the class.
      const storageClass = await client
        .request({ operation, method: "HEAD", key, headers: keyHeaders, signal }, async (r) => r.headers.get("x-amz-storage-class"))
        .catch(() => null);
      throw client.error(
        { operation, key },
        `the object is archived in storage class ${storageClass ?? "(unknown)"}: request a restore (RestoreObject) and read it once restored`,
        { cause: err },
      );
    }
    throw err;
  }
  // fetch decodes a stored Content-Encoding (an object uploaded as `gzip` by another tool):
  // the bytes delivered then match neither Content-Length nor Range offsets.
  const decoded = res.headers.has("content-encoding");
  const lengthHeader = res.headers.get("content-length");
  const size = lengthHeader === null || decoded ? undefined : Number(lengthHeader);
  const etag = res.headers.get("etag");
  let delivered = 0;
  let failures = 0;
  let deliveredAtFailure = 0;
  const budget = client.policy.budget();
  let reader = (res.body ?? new Blob([]).stream()).getReader();

  const resume = async (cause: unknown): Promise<void> => {
    reader.cancel().catch(() => undefined);
    if (signal?.aborted) throw toAbortedError(signal.reason);
    // A resume that delivered bytes was a success: the time the next break may take starts
    // afresh (`maxAttempts`, when set, still counts every break of the download).
    if (delivered > deliveredAtFailure) budget.reset();
    deliveredAtFailure = delivered;
    failures++;
    const truncated = `body broke off after ${delivered}${size === undefined ? "" : ` of ${size}`} bytes`;
    const wait = decoded ? undefined : budget.fail(failures, null);
    if (wait === undefined) {
      const span = budget.failingForMs;
      throw client.error({ operation, key }, unreachableFor(failures, span) + truncated, { cause, ...attemptsMade(failures, span) });
    }
    const what = cause === undefined ? { code: "TRUNCATED", reason: truncated } : networkProblem(cause);
    await waitToRetry(client, { operation: `${operation} (resume)`, key, ...what, status: undefined, attempt: failures }, wait, budget, signal);
    const headers: Record<string, string> = { ...keyHeaders, range: `bytes=${delivered}-` };
    if (etag) headers["if-match"] = etag;
    let next: Response;
    try {
      next = await client.request({ operation: `${operation} (resume)`, method: "GET", key, headers, signal }, async (r) => r);
    } catch (err) {
      if (!(err instanceof S3Error && err.s3Code === "PreconditionFailed")) throw err;
      const { s3Code, status, requestId } = err;
      throw client.error({ operation, key }, `${truncated}; the object was replaced since (its ETag changed), so the rest is not read`, { cause: err, s3Code, status, requestId });
    }
    const range = next.headers.get("content-range");
    if (next.status !== 206 || !range?.startsWith(`bytes ${delivered}-`)) {
      await drain(next);
      throw client.error({ operation, key }, `${truncated}; resuming got HTTP ${next.status} ${range ?? "without Content-Range"}`);
    }
    reader = (next.body ?? new Blob([]).stream()).getReader();
  };

  // A body that stops moving with its socket open would hold a restore forever: after
  // `requestTimeoutMs` without a byte it is resumed like a broken one.
  const { requestTimeoutMs } = client.options;
  const read = () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Stalled(`no bytes within ${requestTimeoutMs} ms`)), requestTimeoutMs);
    });
    return Promise.race([reader.read(), stalled]).finally(() => clearTimeout(timer));
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let cause: unknown;
        try {
          const { done, value } = await read();
          if (!done) {
            delivered += value.length;
            if (size !== undefined && delivered > size) throw client.error({ operation, key }, `body is longer than its Content-Length ${size}`);
            controller.enqueue(value);
            return;
          }
          if (size === undefined || delivered === size) {
            controller.close();
            return;
          }
        } catch (err) {
          if (err instanceof S3Error) throw err;
          cause = err;
        }
        // Truncated or reset: carry on from where the body broke off.
        await resume(cause);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { body, ...(size === undefined ? {} : { size }), ...(etag ? { etag } : {}) };
}
