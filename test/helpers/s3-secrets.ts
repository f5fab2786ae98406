/**
 * Collects every error the S3 tests see, and every signature the adapter sent, so one test
 * can prove that no message, `String()`, JSON form or cause anywhere in the chain repeats
 * the secret key, a signature or an Authorization header.
 */

import { expect } from "vitest";

export interface SecretWatch {
  /** Records an error (returns it, for `expect(watch.seen(err))…`). */
  seen<T>(error: T): T;
  /** Wraps a fetch so the Authorization headers it sends are remembered. */
  fetch(inner?: (request: Request) => Promise<Response>): (request: Request) => Promise<Response>;
  /** Fails if any recorded error text contains a secret, a sent signature or an Authorization header. */
  assertClean(secrets: string[]): void;
  readonly errorCount: number;
}

function texts(error: unknown, depth = 0): string[] {
  if (error === undefined || error === null || depth > 10) return [];
  const out = [String(error)];
  try {
    out.push(JSON.stringify(error, Object.getOwnPropertyNames(error)));
  } catch {
    // Circular: String() and the fields below still cover it.
  }
  if (error instanceof Error) {
    out.push(error.message, error.stack ?? "");
    for (const [k, v] of Object.entries(error)) if (typeof v === "string") out.push(`${k}=${v}`);
    out.push(...texts(error.cause, depth + 1));
    if (error instanceof AggregateError) for (const e of error.errors) out.push(...texts(e, depth + 1));
  }
  return out;
}

export function secretWatch(): SecretWatch {
  const errors: unknown[] = [];
  const authorizations: string[] = [];
  return {
    seen(error) {
      errors.push(error);
      return error;
    },
    fetch(inner = (r) => globalThis.fetch(r)) {
      return (request) => {
        const auth = request.headers.get("authorization");
        if (auth) authorizations.push(auth);
        return inner(request);
      };
    },
    assertClean(secrets) {
      const signatures = authorizations.map((a) => /Signature=([0-9a-f]+)/.exec(a)?.[1]).filter((s) => s !== undefined);
      expect(errors.length).toBeGreaterThan(0);
      const forbidden = [...secrets, ...signatures, "AWS4-HMAC-SHA256", "Signature="];
      for (const text of errors.flatMap((e) => texts(e))) {
        for (const secret of forbidden) expect(text.includes(secret), `error text contains ${secret.slice(0, 6)}…: ${text.slice(0, 200)}`).toBe(false);
      }
    },
    get errorCount() {
      return errors.length;
    },
  };
}
