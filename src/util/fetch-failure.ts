/**
 * What a failed HTTP request says, for every client of a server here (the S3 adapter, the
 * notifier): whether its answer is worth another attempt, and what its network error met.
 */

/**
 * Answers worth another attempt: the server is failing, overloaded or timed out, and may be back
 * in a moment: a bare 408 too (a proxy or load balancer timing out, without S3's RequestTimeout
 * code). Not 501 Not Implemented: the server lacks what was asked (S3's answer to a feature
 * it does not have, a webhook that takes no POST), and says so again on every attempt.
 */
export function transientStatus(status: number): boolean {
  return (status >= 500 && status !== 501) || status === 429 || status === 408;
}

interface Cause {
  error: unknown;
  code: string | undefined;
}

/**
 * A network error and its causes, outermost first and a few deep, each with the code it carries:
 * undici's bare `fetch failed`, then what it met (`connect ECONNREFUSED 127.0.0.1:7480`,
 * `getaddrinfo ENOTFOUND host`, a TLS error). Their messages are the caller's to read: they
 * name the endpoint's host, which the notifier does not show.
 */
export function causeChain(err: unknown): Cause[] {
  const chain: Cause[] = [];
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const { code } = e as { code?: unknown };
    chain.push({ error: e, code: typeof code === "string" ? code : undefined });
  }
  return chain;
}

/** The cause that names a network failure: the innermost one with a code (`ECONNREFUSED`; a runtime's own, such as Bun's, where its fetch error carries one); none for a test's TypeError. */
export function codedCause(chain: readonly Cause[]): { error: unknown; code: string } | undefined {
  return chain.filter((c): c is { error: unknown; code: string } => c.code !== undefined).pop();
}
