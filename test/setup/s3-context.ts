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
  /**
   * Started on first use by whichever worker asks first (`rgwServer()`), in `dir`; stopped by
   * the global teardown, or by the script's watchdog if the process `owner` dies first.
   */
  | { dir: string; script: string; owner: number }
  | { unavailable: string };

declare module "vitest" {
  interface ProvidedContext {
    s3rver: S3TestServer;
    rgw: RgwState;
  }
}
