/**
 * `S3Error`: what the server (or the network) said, in a form callers can branch on. Built
 * only from the status, the error document's `Code`/`Message`/`RequestId` and the request's
 * operation, bucket and key: never from the request itself, so the secret key, the signature
 * and the Authorization header cannot leak into a message, a log line or a cause chain.
 * (AWS's SignatureDoesNotMatch document carries `StringToSign` and `CanonicalRequest`; they
 * are deliberately not read.)
 */

import { AdapterError } from "../../errors.js";
import { xmlText } from "./xml.js";

/** Codes that mean the credentials are wrong, expired or not allowed to do this. */
const AUTH_CODES = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AccessDenied",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "AuthorizationHeaderMalformed",
]);

export interface S3ErrorDetails {
  operation: string;
  bucket: string;
  key?: string | undefined;
  /** S3 error code (`NoSuchBucket`, `SlowDown`, …); undefined for network errors and bodiless answers. */
  s3Code?: string | undefined;
  /** HTTP status; undefined when no response arrived. */
  status?: number | undefined;
  requestId?: string | undefined;
  /** How many requests were made before giving up. */
  attempts?: number | undefined;
  /** For how long, in ms, the failures went on before the adapter gave up retrying. */
  retriedForMs?: number | undefined;
  /** The signing region the server asked for, when it refused the configured one. */
  expectedRegion?: string | undefined;
  cause?: unknown;
}

export class S3Error extends AdapterError {
  override name = "S3Error";
  readonly s3Code: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly bucket: string;
  readonly attempts: number | undefined;
  /** For how long, in ms, the failures went on before the adapter gave up retrying (undefined: no retry). */
  readonly retriedForMs: number | undefined;
  readonly expectedRegion: string | undefined;

  constructor(message: string, details: S3ErrorDetails) {
    const facts = [
      details.s3Code,
      details.status === undefined ? undefined : `HTTP ${details.status}`,
      details.requestId === undefined ? undefined : `request id ${details.requestId}`,
      details.attempts !== undefined && details.attempts > 1 ? `${details.attempts} attempts` : undefined,
    ].filter((f) => f !== undefined);
    super("s3", details.operation, `${message} (bucket ${details.bucket}${facts.length ? `; ${facts.join(", ")}` : ""})`, {
      key: details.key,
      cause: details.cause,
    });
    this.s3Code = details.s3Code;
    this.status = details.status;
    this.requestId = details.requestId;
    this.bucket = details.bucket;
    this.attempts = details.attempts;
    this.retriedForMs = details.retriedForMs;
    this.expectedRegion = details.expectedRegion;
  }

  /**
   * True when the credentials were rejected or lack permission: retrying will not help. A
   * signing-region mismatch is not one: the credentials were never checked.
   */
  get isAuthError(): boolean {
    if (this.expectedRegion !== undefined) return false;
    return (this.s3Code !== undefined && AUTH_CODES.has(this.s3Code)) || (this.s3Code === undefined && this.status === 403);
  }

  /** True when the bucket does not exist. */
  get isMissingBucket(): boolean {
    return this.s3Code === "NoSuchBucket";
  }
}

/** The parts of an S3 error document this adapter trusts. */
export interface ErrorDocument {
  code: string | undefined;
  message: string | undefined;
  requestId: string | undefined;
  /** The region the server expects: AWS's `<Region>`, or one a message names (`expecting 'eu-west-1'`). */
  region: string | undefined;
}

export function parseErrorDocument(xml: string): ErrorDocument {
  const error = xml.includes("<Error") ? xml : "";
  const message = xmlText(error, "Message");
  const hint = message && /region/i.test(message) ? /expect(?:ing|ed)\W*([a-z0-9-]+)/i.exec(message)?.[1] : undefined;
  return { code: xmlText(error, "Code"), message, requestId: xmlText(error, "RequestId"), region: xmlText(error, "Region") ?? hint };
}
