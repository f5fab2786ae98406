/**
 * How the S3 client tells of its retries and give-ups, for one request (client.ts) and for a
 * download's resumes (get.ts) alike: the `onRetry` notice, and what a give-up's `S3Error` says
 * of the retries before it.
 */

import { messageOf } from "../../errors.js";
import type { RetryNotice } from "../../types.js";
import { causeChain, codedCause } from "../../util/fetch-failure.js";
import type { S3ErrorDetails } from "./errors.js";
import { formatSpan, type RetryBudget, type RetryPolicy } from "./retry.js";

/** Hears the retries of a client's requests (one operation's `onRetry`). */
export type RetryListener = ((notice: RetryNotice) => void) | undefined;

/** An attempt that got no answer, or a body that delivered nothing, for `requestTimeoutMs`: retried as a network failure. */
export class Stalled extends Error {}

/**
 * A network failure in a few words, from its code on (`ECONNREFUSED 127.0.0.1:7480`, else the
 * innermost message), and as every message of its cause chain (`fetch failed: connect
 * ECONNREFUSED 127.0.0.1:7480`), for a give-up before retries went on for long.
 */
export function networkFailure(err: unknown): { code: string | undefined; reason: string; message: string } {
  const chain = causeChain(err);
  const coded = codedCause(chain);
  const message = chain
    .map(({ error, code }) => {
      const text = messageOf(error);
      return code !== undefined && !text.includes(code) ? `${text} (${code})` : text;
    })
    .join(": ");
  if (coded === undefined) return { code: undefined, reason: messageOf(chain.length > 0 ? chain[chain.length - 1]!.error : err), message };
  const text = messageOf(coded.error);
  return { code: coded.code, reason: text.includes(coded.code) ? text.slice(text.indexOf(coded.code)) : `${coded.code}: ${text}`, message };
}

/** What a retry notice says of a network failure: `TIMEOUT` for a stall, else the code its cause chain carries. */
export function networkProblem(err: unknown): { code: string; reason: string } {
  if (err instanceof Stalled) return { code: "TIMEOUT", reason: err.message };
  const { code = "NETWORK", reason } = networkFailure(err);
  return { code, reason };
}

/**
 * Tells `onRetry` of the retry after `failed`, then waits `wait` ms for it. A wait after no answer
 * (no `status`) ends early when another request gets one (see `RetryPolicy.sleep`).
 */
export async function waitToRetry(
  client: { policy: RetryPolicy; onRetry: RetryListener },
  failed: Omit<RetryNotice, "waitMs" | "failingForMs">,
  wait: number,
  budget: RetryBudget,
  signal: AbortSignal | undefined,
): Promise<void> {
  client.onRetry?.({ ...failed, waitMs: Math.round(wait), failingForMs: budget.failingForMs });
  await client.policy.sleep(wait, signal, failed.status === undefined);
}

/** How long retries went on before a give-up, said only when it was a while: "for 0.0s" would be noise. */
export function lastedFor(attempts: number, span: number): string | undefined {
  return attempts > 1 && span >= 1000 ? formatSpan(span) : undefined;
}

/** How a give-up after network failures begins, when they went on for a while: `storage unreachable for 2m0s (ECONNREFUSED …): `. */
export function unreachableFor(attempts: number, span: number, reason?: string): string {
  const lasted = lastedFor(attempts, span);
  return lasted ? `storage unreachable for ${lasted}${reason === undefined ? "" : ` (${reason})`}: ` : "";
}

/** The attempts a give-up's `S3Error` counts. */
export function attemptsMade(attempts: number, span: number): Pick<S3ErrorDetails, "attempts" | "retriedForMs"> {
  return { attempts, retriedForMs: attempts > 1 ? span : undefined };
}
