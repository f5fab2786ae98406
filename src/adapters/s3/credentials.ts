/**
 * Credentials, static or from a provider (the shape of `@smithy/types`'
 * `AwsCredentialIdentityProvider`, declared here structurally so the published types do not
 * depend on `@smithy/types`): AWS SDK providers for IAM roles, SSO or web identity plug in
 * as they are. Temporary credentials are fetched again a margin before they expire, and one
 * refresh serves every request waiting for it.
 */

import { AwsClient } from "aws4fetch";

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

/** Signs with the current credentials, refreshing provider credentials before they expire. */
export interface Signer {
  client(): Promise<AwsClient>;
  /** Drops cached provider credentials (the server said they expired). False for static ones. */
  invalidate(): boolean;
}

export function createSigner(
  source: S3Credentials | S3CredentialProvider,
  region: string,
  refreshMarginMs: number,
  now: () => number,
): Signer {
  const toClient = (c: S3Credentials) =>
    new AwsClient({
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
      service: "s3",
      region,
      // Retries are this adapter's own (S3-aware, replaying buffered bodies).
      retries: 0,
    });
  if (typeof source !== "function") {
    const client = toClient(source);
    return { client: async () => client, invalidate: () => false };
  }

  let current: { client: AwsClient; expiresAt: number } | undefined;
  let pending: Promise<AwsClient> | undefined;
  const refresh = async () => {
    const c = await source();
    if (!c || typeof c.accessKeyId !== "string" || typeof c.secretAccessKey !== "string") {
      throw new TypeError("the credentials provider returned no accessKeyId/secretAccessKey");
    }
    const expiresAt = c.expiration instanceof Date ? c.expiration.getTime() : Infinity;
    current = { client: toClient(c), expiresAt };
    return current.client;
  };
  return {
    client() {
      if (current && current.expiresAt - refreshMarginMs > now()) return Promise.resolve(current.client);
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
