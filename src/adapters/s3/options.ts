/**
 * The S3 adapter's options, checked once when the adapter is made: every problem is a
 * `ConfigError` naming the option, and no message ever repeats a credential value.
 */

import { ConfigError } from "../../errors.js";
import { milliseconds, wholeNumber } from "../../util/whole-number.js";
import type { S3CredentialProvider, S3Credentials } from "./credentials.js";
import { md5Base64 } from "./hash.js";
import type { RetryOptions } from "./retry.js";

const MiB = 1024 * 1024;
const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * 1024 * MiB;
export const MAX_PARTS = 10_000;
const DEFAULT_RETRY_FOR = 5 * 60_000;

export interface S3AdapterOptions {
  /** Bucket name. */
  bucket: string;
  /** Signing region (`us-east-1`, `auto` for R2). Always explicit: guessing it from the host fails on custom endpoints. */
  region: string;
  /** Server URL, e.g. `https://<account>.r2.cloudflarestorage.com`; default `https://s3.<region>.amazonaws.com`. */
  endpoint?: string;
  /** Static credentials (or pass `credentials`). */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /**
   * Credentials object or provider (an AWS SDK `AwsCredentialIdentityProvider` such as
   * `fromNodeProviderChain()` fits). Provider credentials are refreshed before `expiration`.
   */
  credentials?: S3Credentials | S3CredentialProvider;
  /**
   * `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`. Default: false,
   * except for endpoints on an IP address or `localhost`, which cannot carry a bucket subdomain,
   * and for bucket names with dots over https, which no wildcard certificate covers.
   */
  forcePathStyle?: boolean;
  /** Multipart part size in bytes (default and minimum 5 MiB). Grown automatically to fit `sizeHint` in 10 000 parts. */
  partSize?: number;
  /** Bodies of at least this many bytes go multipart (default and maximum: `partSize`). */
  multipartThreshold?: number;
  /** Parts in flight at once (default 4; use at most 2 on R2). Memory is about partSize × (concurrency + 1). */
  concurrency?: number;
  /**
   * For how long, in ms, a failing request is retried (network errors, 5xx, 429, throttling)
   * before the operation fails with an `S3Error` saying so; counted from the first failure, and
   * shared by the requests of one outage. 0 turns retries off. Default 300 000 (5 minutes): a
   * rolling restart of MinIO, Ceph or a proxy, or a failover, is over in seconds to a minute or
   * two, well inside it, while a dead or mistyped endpoint does not hold a one-shot
   * `backupper now` for restic's 15 minutes; a scheduled backup that still fails is retried by
   * the scheduler (`retryFailed`). restic 0.14 gave up after 10 backoff retries (about a
   * minute), restic ≥ 0.17 after 15 minutes.
   */
  retryFor?: number;
  /** An upper bound on requests per operation, first one included (default: none, `retryFor` bounds retries). */
  maxAttempts?: number;
  /** Backoff tuning. */
  retry?: RetryOptions;
  /** Fetch implementation (default `globalThis.fetch`): for tests, proxies, exotic runtimes. */
  fetch?: (request: Request) => Promise<Response>;
  /** Provider credentials are refreshed this long before they expire (default 5 minutes). */
  credentialRefreshMarginMs?: number;
  /**
   * Milliseconds one attempt may take until its answer is read (for a GET: until the headers
   * arrive; the body then streams on, and is resumed when it delivers nothing for as long). A
   * server that stops reading an upload would otherwise stall a backup forever; a timed-out
   * attempt is retried like a network error. Default 120 000.
   */
  requestTimeoutMs?: number;
  /**
   * Writes every object under S3 Object Lock for `retainDays` days (the bucket must have been
   * created with Object Lock enabled). GOVERNANCE can be lifted by a user with
   * `s3:BypassGovernanceRetention`; COMPLIANCE by nobody, not even the account root, until it expires.
   */
  objectLock?: { mode: "GOVERNANCE" | "COMPLIANCE"; retainDays: number };
  /** Storage class of new objects (`STANDARD_IA`, `GLACIER_IR`, …). GLACIER and DEEP_ARCHIVE need a restore request before a restore can read them. */
  storageClass?: string;
  /** Server-side encryption with S3-managed keys (`"AES256"`) or a KMS key (`{ kmsKeyId }`). */
  sse?: "AES256" | { kmsKeyId: string };
  /** SSE-C: a base64 256-bit key the server encrypts with and does not keep; every read needs it again. Never logged. */
  sseCustomerKey?: string;
}

export interface ResolvedS3Options {
  bucket: string;
  region: string;
  /** URL of the bucket, without a trailing `/`; object URLs are this + `/` + encoded key. */
  bucketUrl: string;
  credentials: S3Credentials | S3CredentialProvider;
  partSize: number;
  multipartThreshold: number;
  concurrency: number;
  /** Infinity when not set. */
  maxAttempts: number;
  retryFor: number;
  retry: RetryOptions;
  fetch: (request: Request) => Promise<Response>;
  credentialRefreshMarginMs: number;
  requestTimeoutMs: number;
  objectLock: { mode: "GOVERNANCE" | "COMPLIANCE"; retainDays: number } | undefined;
  /** Sent when an object is created (PutObject, CreateMultipartUpload). */
  createHeaders: Record<string, string>;
  /** SSE-C headers, sent on every request that reads or writes object bytes. */
  keyHeaders: Record<string, string>;
}

function fail(option: string, message: string): never {
  throw new ConfigError(option, message);
}

function nonEmpty(option: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") fail(option, "is required (a non-empty string)");
  return value;
}

function resolveCredentials(opts: S3AdapterOptions): S3Credentials | S3CredentialProvider {
  if (opts.credentials !== undefined) {
    if (opts.accessKeyId !== undefined || opts.secretAccessKey !== undefined) {
      fail("credentials", "give either credentials or accessKeyId/secretAccessKey, not both");
    }
    if (typeof opts.credentials === "function") return opts.credentials;
    if (typeof opts.credentials !== "object" || opts.credentials === null) {
      fail("credentials", "must be an object { accessKeyId, secretAccessKey, sessionToken? } or an async provider function");
    }
    nonEmpty("credentials.accessKeyId", opts.credentials.accessKeyId);
    nonEmpty("credentials.secretAccessKey", opts.credentials.secretAccessKey);
    return opts.credentials;
  }
  const accessKeyId = nonEmpty("accessKeyId", opts.accessKeyId);
  const secretAccessKey = nonEmpty("secretAccessKey", opts.secretAccessKey);
  if (opts.sessionToken !== undefined) nonEmpty("sessionToken", opts.sessionToken);
  return { accessKeyId, secretAccessKey, sessionToken: opts.sessionToken };
}

function resolveBucketUrl(opts: S3AdapterOptions, bucket: string, region: string): string {
  let url: URL;
  try {
    url = new URL(opts.endpoint ?? `https://s3.${region}.amazonaws.com`);
  } catch {
    fail("endpoint", `is not a URL: ${String(opts.endpoint)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") fail("endpoint", `must be http(s), got ${url.protocol}`);
  if (url.username || url.password) fail("endpoint", "must not contain credentials (use accessKeyId/secretAccessKey)");
  if (url.search || url.hash) fail("endpoint", "must not have a query or fragment");
  const hostIsAddress = /^(\d+\.){3}\d+$|^\[|^localhost$/.test(url.hostname);
  // `a.b.s3.amazonaws.com` matches no wildcard certificate (`*.s3.amazonaws.com` covers one
  // label), so over TLS a dotted bucket goes path-style, as the AWS SDKs do.
  const pathStyle = opts.forcePathStyle ?? (hostIsAddress || (url.protocol === "https:" && bucket.includes(".")));
  if (typeof pathStyle !== "boolean") fail("forcePathStyle", "must be a boolean");
  const base = url.pathname.replace(/\/+$/, "");
  if (pathStyle) return `${url.origin}${base}/${bucket}`;
  if (hostIsAddress) fail("forcePathStyle", "must be true for an endpoint on an IP address or localhost");
  return `${url.protocol}//${bucket}.${url.host}${base}`;
}

function resolveObjectLock(lock: S3AdapterOptions["objectLock"]): ResolvedS3Options["objectLock"] {
  if (lock === undefined) return undefined;
  if (lock?.mode !== "GOVERNANCE" && lock?.mode !== "COMPLIANCE") fail("objectLock.mode", 'must be "GOVERNANCE" or "COMPLIANCE"');
  return { mode: lock.mode, retainDays: wholeNumber("objectLock.retainDays", lock.retainDays, 0, 1, 36_500) };
}

function resolveEncryption(opts: S3AdapterOptions): Pick<ResolvedS3Options, "createHeaders" | "keyHeaders"> {
  const createHeaders: Record<string, string> = {};
  const keyHeaders: Record<string, string> = {};
  if (opts.storageClass !== undefined) createHeaders["x-amz-storage-class"] = nonEmpty("storageClass", opts.storageClass);
  const { sse, sseCustomerKey } = opts;
  if (sse === "AES256") createHeaders["x-amz-server-side-encryption"] = sse;
  else if (sse !== undefined) {
    if (typeof sse !== "object" || sse === null) fail("sse", 'must be "AES256" or { kmsKeyId }');
    createHeaders["x-amz-server-side-encryption"] = "aws:kms";
    createHeaders["x-amz-server-side-encryption-aws-kms-key-id"] = nonEmpty("sse.kmsKeyId", sse.kmsKeyId);
  }
  if (sseCustomerKey !== undefined) {
    if (sse !== undefined) fail("sseCustomerKey", "cannot be combined with sse");
    let key: Uint8Array;
    try {
      key = Uint8Array.from(atob(sseCustomerKey), (c) => c.charCodeAt(0));
    } catch {
      key = new Uint8Array(0);
    }
    if (key.length !== 32) fail("sseCustomerKey", "must be a base64-encoded 256-bit key");
    keyHeaders["x-amz-server-side-encryption-customer-algorithm"] = "AES256";
    keyHeaders["x-amz-server-side-encryption-customer-key"] = sseCustomerKey;
    keyHeaders["x-amz-server-side-encryption-customer-key-md5"] = md5Base64(key);
  }
  return { createHeaders: { ...createHeaders, ...keyHeaders }, keyHeaders };
}

export function resolveS3Options(opts: S3AdapterOptions): ResolvedS3Options {
  if (typeof opts !== "object" || opts === null) fail("options", "s3Adapter needs an options object");
  const bucket = nonEmpty("bucket", opts.bucket);
  if (!/^[a-z0-9][a-z0-9.\-_]{1,254}$/i.test(bucket)) fail("bucket", `is not a valid bucket name: ${JSON.stringify(bucket)}`);
  const region = nonEmpty("region", opts.region);
  const credentials = resolveCredentials(opts);
  const partSize = wholeNumber("partSize", opts.partSize, MIN_PART_SIZE, MIN_PART_SIZE, MAX_PART_SIZE);
  const multipartThreshold = wholeNumber("multipartThreshold", opts.multipartThreshold, partSize, 1, partSize);
  const concurrency = wholeNumber("concurrency", opts.concurrency, 4, 1, 64);
  const maxAttempts = wholeNumber("maxAttempts", opts.maxAttempts, Infinity, 1, 10_000);
  const retryFor = wholeNumber("retryFor", opts.retryFor, DEFAULT_RETRY_FOR, 0, 86_400_000);
  const retry = opts.retry ?? {};
  wholeNumber("retry.baseDelayMs", retry.baseDelayMs, 0, 0);
  wholeNumber("retry.maxDelayMs", retry.maxDelayMs, 0, 0);
  const fetchFn = opts.fetch ?? ((request: Request) => globalThis.fetch(request));
  if (typeof fetchFn !== "function") fail("fetch", "must be a function");
  return {
    bucket,
    region,
    bucketUrl: resolveBucketUrl(opts, bucket, region),
    credentials,
    partSize,
    multipartThreshold,
    concurrency,
    maxAttempts,
    retryFor,
    retry,
    fetch: fetchFn,
    credentialRefreshMarginMs: wholeNumber("credentialRefreshMarginMs", opts.credentialRefreshMarginMs, 5 * 60_000, 0),
    requestTimeoutMs: milliseconds("requestTimeoutMs", opts.requestTimeoutMs, 120_000, 1),
    objectLock: resolveObjectLock(opts.objectLock),
    ...resolveEncryption(opts),
  };
}
