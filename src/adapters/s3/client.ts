/**
 * One S3 request, signed, sent and retried. Each attempt is signed afresh (current
 * credentials, corrected clock) and replays the same buffered body, which is why bodies here
 * are always whole `Uint8Array`s. Responses other than 2xx become `S3Error`s; the caller's
 * `read` turns a 2xx response into a value inside the retry loop, so a body that fails
 * half-read, or a 200 that carries an `<Error>` document, is retried like any transient
 * failure; an answer too long or malformed to use (an `XmlError`) is not. A request that cannot
 * even be built (a header value fetch refuses) fails at once: no retry would change it. Every request
 * this adapter makes may be repeated: GET, PUT and DELETE are idempotent, and
 * CreateMultipartUpload/CompleteMultipartUpload are retried as the AWS SDKs retry them (a
 * lost Create answer can leave one extra upload for the bucket's lifecycle rule).
 */

import { BackupError, messageOf, toAbortedError } from "../../errors.js";
import { anySignal } from "../../util/streams.js";
import { createSigner, type Signer } from "./credentials.js";
import { parseErrorDocument, S3Error, type S3ErrorDetails } from "./errors.js";
import { EMPTY_SHA256, sha256Hex } from "./hash.js";
import type { ResolvedS3Options } from "./options.js";
import { createRetryPolicy, isRetryable, type RetryPolicy } from "./retry.js";
import { attemptsMade, lastedFor, networkFailure, networkProblem, Stalled, unreachableFor, waitToRetry, type RetryListener } from "./retry-report.js";
import { readXml, XmlError } from "./xml.js";

interface S3Request {
  operation: string;
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  /** Object key; absent for bucket-level requests. */
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Payload SHA-256 hex when the caller already has it. */
  bodySha256?: string;
  signal?: AbortSignal | undefined;
}

/** A failure found in a 2xx response (a 200 with an `<Error>` document). */
export class ResponseFailure extends Error {
  constructor(
    readonly status: number,
    readonly s3Code: string | undefined,
    readonly serverMessage: string | undefined,
    readonly requestId: string | undefined,
    readonly region?: string,
  ) {
    super(serverMessage || s3Code || `HTTP ${status}`);
  }
}

export interface S3Client {
  readonly bucket: string;
  readonly policy: RetryPolicy;
  readonly options: ResolvedS3Options;
  /** Hears every retry of this client's requests (one operation's `onRetry`). */
  readonly onRetry: RetryListener;
  request<T>(req: S3Request, read: (res: Response) => Promise<T>): Promise<T>;
  /** The same client (credentials, clock correction, outage), reporting its retries to `onRetry`. */
  reporting(onRetry: RetryListener): S3Client;
  /** An `S3Error` for something the adapter itself found wrong with an answer. */
  error(
    req: Pick<S3Request, "operation" | "key">,
    message: string,
    extra?: Pick<S3ErrorDetails, "cause" | "attempts" | "retriedForMs" | "s3Code" | "status" | "requestId">,
  ): S3Error;
}

/** RFC 3986 encoding (SigV4's): every byte but the unreserved ones percent-encoded. */
function encodeComponent(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function encodeQuery(query: Record<string, string>): string {
  const pairs = Object.entries(query).map(([k, v]) => (v === "" ? encodeComponent(k) : `${encodeComponent(k)}=${encodeComponent(v)}`));
  return pairs.length ? `?${pairs.join("&")}` : "";
}

function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

/** An error document's Code, Message and RequestId come first; the rest of a body is not read. */
const MAX_ERROR_BODY = 64 * 1024;

/** Reads nothing of an answer whose body carries nothing we use, so the connection is freed at once. */
export async function drain(res: Response): Promise<void> {
  await res.body?.cancel();
}

/** The ETag of an answer whose body carries nothing we use (PUT, UploadPart). */
export async function etagOf(res: Response): Promise<string | undefined> {
  await drain(res);
  return res.headers.get("etag") ?? undefined;
}

/** A failed answer: what its error document in `text` says (else `message`), and its request id. */
export function responseFailure(res: Response, text: string, message?: string): ResponseFailure {
  const doc = parseErrorDocument(text);
  return new ResponseFailure(
    res.status,
    doc.code,
    doc.message ?? message,
    doc.requestId ?? res.headers.get("x-amz-request-id") ?? undefined,
    doc.region ?? res.headers.get("x-amz-bucket-region") ?? undefined,
  );
}

async function readFailure(res: Response): Promise<ResponseFailure> {
  let text = "";
  try {
    text = await readXml(res, MAX_ERROR_BODY);
  } catch {
    // The status alone still says what happened.
  }
  return responseFailure(res, text);
}

export function createClient(options: ResolvedS3Options, now: () => number = Date.now): S3Client {
  const signer: Signer = createSigner(options.credentials, options.region, options.credentialRefreshMarginMs, now);
  const policy = createRetryPolicy(options, options.retry, now);
  const fetchFn = options.fetch;
  // The server's clock minus ours, learned from a RequestTimeTooSkewed answer and kept.
  let skewMs = 0;

  const error: S3Client["error"] = (req, message, extra) =>
    new S3Error(message, { operation: req.operation, bucket: options.bucket, key: req.key, ...extra });

  async function request<T>(req: S3Request, read: (res: Response) => Promise<T>, onRetry: RetryListener): Promise<T> {
    // The URL parser would collapse these segments, signing and addressing another object.
    if (req.key?.split("/").some((s) => s === "." || s === "..")) {
      throw error(req, `keys with "." or ".." path segments cannot be addressed in a URL: ${JSON.stringify(req.key)}`);
    }
    const url = options.bucketUrl + (req.key === undefined ? "" : `/${encodeComponent(req.key).replace(/%2F/g, "/")}`) + encodeQuery(req.query ?? {});
    const payloadHash = req.bodySha256 ?? (req.body ? await sha256Hex(req.body) : EMPTY_SHA256);
    const budget = policy.budget();
    let skewCorrected = false;
    let credentialsRefreshed = false;
    for (let attempt = 1; ; attempt++) {
      if (req.signal?.aborted) throw toAbortedError(req.signal.reason);
      const canRetry = attempt < policy.maxAttempts;
      let sign;
      try {
        sign = await signer.current();
      } catch (cause) {
        throw error(req, "could not get credentials from the provider", { cause });
      }
      let failure: ResponseFailure | undefined;
      let networkError: unknown;
      let retryAfter: string | null = null;
      let res: Response | undefined;
      const timeout = new AbortController();
      let signed: Request;
      try {
        signed = await sign({
          url,
          method: req.method,
          headers: { ...req.headers, "x-amz-content-sha256": payloadHash },
          body: req.body,
          signal: anySignal([req.signal, timeout.signal]),
          datetime: amzDate(now() + skewMs),
        });
      } catch (cause) {
        throw error(req, `could not make the request: ${messageOf(cause)}`, { cause });
      }
      const timer = setTimeout(() => timeout.abort(new Stalled(`no answer within ${options.requestTimeoutMs} ms`)), options.requestTimeoutMs);
      try {
        res = await fetchFn(signed);
        if (res.ok) {
          policy.answered();
          return await read(res);
        }
        retryAfter = res.headers.get("retry-after");
        failure = await readFailure(res);
        const serverDate = Date.parse(res.headers.get("date") ?? "");
        if (failure.s3Code === "RequestTimeTooSkewed" && !skewCorrected && !Number.isNaN(serverDate) && canRetry) {
          skewMs = serverDate - now();
          skewCorrected = true;
          continue;
        }
        if (failure.s3Code === "ExpiredToken" && !credentialsRefreshed && canRetry && signer.invalidate()) {
          credentialsRefreshed = true;
          continue;
        }
      } catch (err) {
        if (req.signal?.aborted) throw toAbortedError(req.signal.reason);
        if (err instanceof BackupError) throw err;
        if (err instanceof ResponseFailure) failure = err;
        // Too long or unparseable: failed like a 200 with a permanent <Error>, since a server
        // that answers so would answer so again.
        else if (err instanceof XmlError && res) failure = responseFailure(res, "", err.message);
        else networkError = timeout.signal.aborted ? timeout.signal.reason : err;
      } finally {
        clearTimeout(timer);
      }
      const transient = failure ? isRetryable(failure.status, failure.s3Code) : true;
      if (!transient) policy.answered();
      const wait = transient ? budget.fail(attempt, retryAfter) : undefined;
      if (wait !== undefined) {
        const what = failure
          ? { code: failure.s3Code ?? `HTTP ${failure.status}`, reason: `${failure.status}${failure.s3Code ? ` ${failure.s3Code}` : ""}` }
          : networkProblem(networkError);
        await waitToRetry({ policy, onRetry }, { operation: req.operation, key: req.key, ...what, status: failure?.status, attempt }, wait, budget, req.signal);
        continue;
      }
      const span = budget.failingForMs;
      if (failure) {
        const lasted = lastedFor(attempt, span);
        const expectedRegion = failure.region && failure.region !== options.region ? failure.region : undefined;
        const message = expectedRegion
          ? `signing region ${JSON.stringify(options.region)} is wrong, the server expects ${JSON.stringify(expectedRegion)}: set region (the credentials were not checked)`
          : failure.serverMessage || failure.s3Code || `HTTP ${failure.status}`;
        throw new S3Error(lasted && transient ? `storage kept failing for ${lasted}: ${message}` : message, {
          operation: req.operation,
          bucket: options.bucket,
          key: req.key,
          s3Code: failure.s3Code,
          status: failure.status,
          requestId: failure.requestId,
          ...attemptsMade(attempt, span),
          expectedRegion,
        });
      }
      const network = networkFailure(networkError);
      const unreachable = unreachableFor(attempt, span, network.reason);
      // After retries the cause chain stays in `cause`; the message says what the last one met.
      throw error(req, `${unreachable}request to ${new URL(url).origin} failed${unreachable ? "" : `: ${network.message}`}`, {
        cause: networkError,
        ...attemptsMade(attempt, span),
      });
    }
  }

  const client = (onRetry: RetryListener): S3Client => ({
    bucket: options.bucket,
    policy,
    options,
    onRetry,
    request: (req, read) => request(req, read, onRetry),
    reporting: client,
    error,
  });
  return client(undefined);
}
