/**
 * The S3 adapter's options, checked once when the adapter is made: every problem is a
 * `ConfigError` naming the option, and no message ever repeats a credential value.
 */

import { ConfigError } from "../../errors.js";
import type { S3CredentialProvider, S3Credentials } from "./credentials.js";
import type { RetryOptions } from "./retry.js";

const MiB = 1024 * 1024;
const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * 1024 * MiB;
export const MAX_PARTS = 10_000;

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
   * except for endpoints on an IP address or `localhost`, which cannot carry a bucket subdomain.
   */
  forcePathStyle?: boolean;
  /** Multipart part size in bytes (default 8 MiB, at least 5 MiB). Grown automatically to fit `sizeHint` in 10 000 parts. */
  partSize?: number;
  /** Bodies of at least this many bytes go multipart (default and maximum: `partSize`). */
  multipartThreshold?: number;
  /** Parts in flight at once (default 4; use at most 2 on R2). Memory is about partSize × (concurrency + 1). */
  concurrency?: number;
  /** Requests per operation before giving up, first one included (default 5). */
  maxAttempts?: number;
  /** Backoff tuning. */
  retry?: RetryOptions;
  /** Fetch implementation (default `globalThis.fetch`): for tests, proxies, exotic runtimes. */
  fetch?: (request: Request) => Promise<Response>;
  /** Provider credentials are refreshed this long before they expire (default 5 minutes). */
  credentialRefreshMarginMs?: number;
  /**
   * Milliseconds one attempt may take until its answer is read (for a GET: until the headers
   * arrive; the body then streams on). A server that stops reading an upload would otherwise
   * stall a backup forever; a timed-out attempt is retried like a network error. Default 120 000.
   */
  requestTimeoutMs?: number;
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
  maxAttempts: number;
  retry: RetryOptions;
  fetch: (request: Request) => Promise<Response>;
  credentialRefreshMarginMs: number;
  requestTimeoutMs: number;
}

function fail(option: string, message: string): never {
  throw new ConfigError(option, message);
}

function integer(option: string, value: number | undefined, fallback: number, min: number, max = Infinity): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(option, `must be an integer from ${min}${max === Infinity ? " up" : ` to ${max}`}, got ${String(value)}`);
  }
  return value;
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
  const pathStyle = opts.forcePathStyle ?? hostIsAddress;
  if (typeof pathStyle !== "boolean") fail("forcePathStyle", "must be a boolean");
  const base = url.pathname.replace(/\/+$/, "");
  if (pathStyle) return `${url.origin}${base}/${bucket}`;
  if (hostIsAddress) fail("forcePathStyle", "must be true for an endpoint on an IP address or localhost");
  return `${url.protocol}//${bucket}.${url.host}${base}`;
}

export function resolveS3Options(opts: S3AdapterOptions): ResolvedS3Options {
  if (typeof opts !== "object" || opts === null) fail("options", "s3Adapter needs an options object");
  const bucket = nonEmpty("bucket", opts.bucket);
  if (!/^[a-z0-9][a-z0-9.\-_]{1,254}$/i.test(bucket)) fail("bucket", `is not a valid bucket name: ${JSON.stringify(bucket)}`);
  const region = nonEmpty("region", opts.region);
  const credentials = resolveCredentials(opts);
  const partSize = integer("partSize", opts.partSize, 8 * MiB, MIN_PART_SIZE, MAX_PART_SIZE);
  const multipartThreshold = integer("multipartThreshold", opts.multipartThreshold, partSize, 1, partSize);
  const concurrency = integer("concurrency", opts.concurrency, 4, 1, 64);
  const maxAttempts = integer("maxAttempts", opts.maxAttempts, 5, 1, 100);
  const retry = opts.retry ?? {};
  integer("retry.baseDelayMs", retry.baseDelayMs, 0, 0);
  integer("retry.maxDelayMs", retry.maxDelayMs, 0, 0);
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
    retry,
    fetch: fetchFn,
    credentialRefreshMarginMs: integer("credentialRefreshMarginMs", opts.credentialRefreshMarginMs, 5 * 60_000, 0),
    requestTimeoutMs: integer("requestTimeoutMs", opts.requestTimeoutMs, 120_000, 1, 2_147_483_647),
  };
}
