/**
 * When to retry and how long to wait. Retried: network errors, 5xx, 408, 429 and the throttling
 * and transient codes S3 sends (some with a 200 or a 400 status); never auth or validation
 * errors, which will fail the same way again. Waits use exponential backoff with full jitter
 * (AWS's recommendation, so many clients do not retry in lockstep), stretched to the
 * server's `Retry-After`, and an abort ends a wait at once.
 */

import { toAbortedError } from "../../errors.js";

export interface RetryOptions {
  /** First backoff ceiling in ms (default 100); attempt n waits a random time up to base × 2^n. */
  baseDelayMs?: number;
  /** Upper bound for any single wait in ms, `Retry-After` included (default 20 000). */
  maxDelayMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Injectable for tests; returns [0, 1). */
  random?: () => number;
}

const RETRYABLE_CODES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "RequestThrottled",
  "TooManyRequests",
  "InternalError",
  "ServiceUnavailable",
  "RequestTimeout",
  "RequestTimeoutException",
  "PriorRequestNotComplete",
]);

export function isRetryable(status: number | undefined, code: string | undefined): boolean {
  if (code !== undefined && RETRYABLE_CODES.has(code)) return true;
  // 501 NotImplemented is an answer, not an outage; a bare 408 (a proxy or load balancer
  // timing out, without S3's RequestTimeout code) is as transient as the coded one.
  return status === undefined || (status >= 500 && status !== 501) || status === 429 || status === 408;
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  /** Waits before attempt `attempt + 1` (attempt counts from 1). */
  wait(attempt: number, retryAfter: string | null, signal?: AbortSignal): Promise<void>;
}

export function createRetryPolicy(maxAttempts: number, opts: RetryOptions = {}): RetryPolicy {
  const base = opts.baseDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 20_000;
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? abortableSleep;
  return {
    maxAttempts,
    wait(attempt, retryAfter, signal) {
      const jitter = random() * Math.min(max, base * 2 ** (attempt - 1));
      return sleep(Math.min(max, Math.max(jitter, retryAfterMs(retryAfter))), signal);
    },
  };
}

/** `Retry-After` as seconds or an HTTP date; 0 when absent or unreadable. */
function retryAfterMs(value: string | null): number {
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? 0 : Math.max(0, date - Date.now());
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(toAbortedError(signal.reason));
    const onAbort = () => {
      clearTimeout(timer);
      reject(toAbortedError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
