/**
 * What a failed HTTP request says, for every client of a server here (the S3 adapter, the
 * notifier): whether its answer is worth another attempt, and what its network error was.
 */

import { messageOf } from "../errors.js";

/** Answers worth another attempt: the server is failing, overloaded or timed out, and may be back in a moment. */
export function transientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

interface NetworkFailure {
  /** The innermost code of the cause chain (`ECONNREFUSED`), when one carries a code. */
  code: string | undefined;
  /** That code and what follows it (`ECONNREFUSED 127.0.0.1:7480`), else the innermost message. */
  reason: string;
  /** Every message of the chain: `fetch failed: connect ECONNREFUSED 127.0.0.1:1`. */
  message: string;
}

/**
 * What a network error says beyond undici's bare `fetch failed`, read from its cause chain: a
 * code and the words after it (`connect ECONNREFUSED 127.0.0.1:7480`, `getaddrinfo ENOTFOUND
 * host`, a TLS error), or the innermost message when no cause carries a code (Bun, Deno, a
 * test's TypeError).
 */
export function networkFailure(err: unknown): NetworkFailure {
  let code: string | undefined;
  let reason = messageOf(err);
  const parts: string[] = [];
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const c = (e as { code?: unknown }).code;
    const text = messageOf(e);
    if (typeof c === "string") {
      code = c;
      reason = text.includes(c) ? text.slice(text.indexOf(c)) : `${c}: ${text}`;
    } else if (code === undefined) reason = text;
    parts.push(typeof c === "string" && !text.includes(c) ? `${text} (${c})` : text);
  }
  return { code, reason, message: parts.join(": ") };
}
