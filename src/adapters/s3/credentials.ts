/**
 * Credentials, static or from a provider (the shape of `@smithy/types`'
 * `AwsCredentialIdentityProvider`, declared here structurally so the published types do not
 * depend on `@smithy/types`): AWS SDK providers for IAM roles, SSO or web identity plug in
 * as they are. Temporary credentials are fetched again a margin before they expire, and one
 * refresh serves every request waiting for it.
 */

import { AwsV4Signer } from "aws4fetch";
import { requestBody } from "./body.js";

/** Structurally `AwsCredentialIdentity` from `@smithy/types`. */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  /** When temporary credentials stop working; they are refreshed before then. */
  readonly expiration?: Date | undefined;
}

/** Structurally `AwsCredentialIdentityProvider` from `@smithy/types`. */
export type S3CredentialProvider = () => Promise<S3Credentials>;

/** What a request is signed from: SigV4 covers the method, URL, headers and the payload hash among them. */
interface Unsigned {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array | undefined;
  /** `YYYYMMDDTHHMMSSZ`, on the server's clock as far as it is known. */
  datetime: string;
  signal: AbortSignal;
}

type Sign = (request: Unsigned) => Promise<Request>;

/** Signs requests with the current credentials, refreshing provider credentials before they expire. */
export interface Signer {
  current(): Promise<Sign>;
  /** Drops cached provider credentials (the server said they expired). False for static ones. */
  invalidate(): boolean;
}


export function createSigner(
  source: S3Credentials | S3CredentialProvider,
  region: string,
  refreshMarginMs: number,
  now: () => number,
): Signer {
  // aws4fetch's signer alone: sending and retrying are this adapter's own (S3-aware, replaying buffered bodies).
  const signerFor = (c: S3Credentials): Sign => {
    // Signing keys derived from these credentials, per day, region and service.
    const cache = new Map<string, ArrayBuffer>();
    return async ({ signal, body, ...request }) => {
      const signed = await new AwsV4Signer({
        ...request,
        body: body as BodyInit | undefined,
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        service: "s3",
        region,
        cache,
      }).sign();
      const payload = requestBody(body, signed.headers);
      return new Request(signed.url, { method: signed.method, headers: signed.headers, signal, ...payload } as RequestInit);
    };
  };
  if (typeof source !== "function") {
    const sign = signerFor(source);
    return { current: async () => sign, invalidate: () => false };
  }

  let current: { sign: Sign; expiresAt: number } | undefined;
  let pending: Promise<Sign> | undefined;
  const refresh = async () => {
    const c = await source();
    if (!c || typeof c.accessKeyId !== "string" || typeof c.secretAccessKey !== "string") {
      throw new TypeError("the credentials provider returned no accessKeyId/secretAccessKey");
    }
    const expiresAt = c.expiration instanceof Date ? c.expiration.getTime() : Infinity;
    current = { sign: signerFor(c), expiresAt };
    return current.sign;
  };
  return {
    current() {
      if (current && current.expiresAt - refreshMarginMs > now()) return Promise.resolve(current.sign);
      pending ??= refresh().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate() {
      current = undefined;
      return true;
    },
  };
}
