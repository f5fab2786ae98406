/**
 * When to retry and how long to wait. Retried: network errors, 5xx, 408, 429 and the throttling
 * and transient codes S3 sends (some with a 200 or a 400 status); never auth or validation
 * errors, which will fail the same way again. Retries are bounded by time (`retryFor`), as
 * restic bounds them, and by `maxAttempts` only when that is set. Waits use exponential backoff
 * with full jitter (AWS's recommendation, so many clients do not retry in lockstep), stretched
 * to the server's `Retry-After`, capped, and never past the budget; an abort ends a wait at once.
 *
 * The budget counts from the first failure, and one outage is one budget: a request that starts
 * failing while others already are (the other parts of an upload, the abort and cleanup right
 * after a give-up) counts from the outage's first failure, so a backup gives up `retryFor` after
 * the storage went away, not `retryFor` per request in turn. An outage ends when the storage
 * answers, or when no failure was seen for `OUTAGE_LAPSE_MS` (a run an hour later starts afresh).
 * The first answer after an outage also ends the waits of requests that found the storage
 * unreachable: once one retry gets through, the rest need not sit out backoffs drawn while it was down.
 */

import { toAbortedError } from "../../errors.js";
import { transientStatus } from "../../util/fetch-failure.js";
import { anySignal } from "../../util/streams.js";

export interface RetryOptions {
  /** First backoff ceiling in ms (default 100); attempt n waits a random time up to base × 2^n. */
  baseDelayMs?: number;
  /** Upper bound for any single wait in ms, `Retry-After` included (default 30 000). */
  maxDelayMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Injectable for tests; returns [0, 1). */
  random?: () => number;
}

const OUTAGE_LAPSE_MS = 30_000;

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
  return status === undefined || transientStatus(status);
}

/** The failures of one request (or of one download's resumes), and how long to wait after each. */
export interface RetryBudget {
  /** Ms since the failures this budget counts began: its own first, or its outage's if earlier. */
  readonly failingForMs: number;
  /**
   * Records a transient failure of attempt `attempt` (from 1). Returns the wait before the next
   * attempt, or undefined when the attempts or the time are spent.
   */
  fail(attempt: number, retryAfter: string | null): number | undefined;
  /** Progress was made (a download delivered bytes): later failures start a new count. */
  reset(): void;
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  budget(): RetryBudget;
  /** The storage gave an answer that is not a transient failure: an outage in progress is over. */
  answered(): void;
  /**
   * Waits `ms`, or until `signal` aborts (rejecting). `untilAnswered`: also ends when some other
   * request gets an answer, for a wait after a network failure (a storage that answers again is
   * reachable); a wait after an answered failure (503, 429) keeps its backoff and `Retry-After`.
   */
  sleep(ms: number, signal?: AbortSignal, untilAnswered?: boolean): Promise<void>;
}

export function createRetryPolicy(
  limits: { maxAttempts: number; retryFor: number },
  opts: RetryOptions = {},
  now: () => number = Date.now,
): RetryPolicy {
  const base = opts.baseDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 30_000;
  const random = opts.random ?? Math.random;
  const outage: { since: number | undefined; last: number } = { since: undefined, last: 0 };
  const { maxAttempts, retryFor } = limits;
  const sleep = opts.sleep ?? abortableSleep;
  const waiting = new Set<AbortController>();
  return {
    maxAttempts,
    async sleep(ms, signal, untilAnswered) {
      const wake = new AbortController();
      if (untilAnswered) waiting.add(wake);
      try {
        await sleep(ms, anySignal([signal, wake.signal]));
      } catch (error) {
        if (signal?.aborted || !wake.signal.aborted) throw error;
      } finally {
        waiting.delete(wake);
      }
    },
    answered() {
      if (outage.since === undefined) return;
      outage.since = undefined;
      for (const wake of waiting) wake.abort();
    },
    budget() {
      let first: number | undefined;
      let failures = 0;
      const startOf = (t: number) => Math.min(first ?? t, outage.since ?? t);
      return {
        get failingForMs() {
          const t = now();
          return first === undefined ? 0 : t - startOf(t);
        },
        fail(attempt, retryAfter) {
          const t = now();
          if (outage.since !== undefined && t - outage.last > OUTAGE_LAPSE_MS) outage.since = undefined;
          outage.since ??= t;
          outage.last = t;
          first ??= t;
          failures++;
          const left = retryFor - (t - startOf(t));
          if (attempt >= maxAttempts || left <= 0) return undefined;
          const jitter = random() * Math.min(max, base * 2 ** (failures - 1));
          return Math.min(max, left, Math.max(jitter, retryAfterMs(retryAfter)));
        },
        reset() {
          first = undefined;
          failures = 0;
        },
      };
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

/** `2m0s`, `5.0s`, `1h2m3s`: how long retries went on, in the form restic and Go print durations. */
export function formatSpan(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  return `${h > 0 ? `${h}h` : ""}${Math.floor((s % 3600) / 60)}m${s % 60}s`;
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
