/** What the S3 global setup hands to test workers through vitest's `provide`/`inject`. */

export interface S3TestServer {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A bucket that exists when the tests start. */
  bucket: string;
}

export type RgwState =
  /** Starting in the background: `dir/env` appears when it is ready, `dir/failed` if it could not start. */
  | { dir: string }
  | { unavailable: string };

declare module "vitest" {
  interface ProvidedContext {
    s3rver: S3TestServer;
    rgw: RgwState;
  }
}
