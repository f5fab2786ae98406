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
  cause?: unknown;
}

export class S3Error extends AdapterError {
  override name = "S3Error";
  readonly s3Code: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly bucket: string;
  readonly attempts: number | undefined;

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
  }

  /** True when the credentials were rejected or lack permission: retrying will not help. */
  get isAuthError(): boolean {
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
}

export function parseErrorDocument(xml: string): ErrorDocument {
  const error = xml.includes("<Error") ? xml : "";
  return { code: xmlText(error, "Code"), message: xmlText(error, "Message"), requestId: xmlText(error, "RequestId") };
}
