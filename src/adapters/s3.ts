/**
 * `backupper/s3`: a `StorageAdapter` for S3 and S3-compatible storage (AWS S3, Cloudflare R2,
 * MinIO, DigitalOcean Spaces, Backblaze B2, Wasabi, Google Cloud Storage, Hetzner, Scaleway,
 * OVH, Tigris, Garage, Ceph RGW), signed by aws4fetch and running on any runtime with
 * `fetch` and Web Crypto.
 *
 * ```ts
 * import { s3Adapter, cloudflareR2 } from "backupper/s3";
 * const adapter = s3Adapter({ ...cloudflareR2({ accountId }), bucket: "backups", accessKeyId, secretAccessKey });
 * ```
 */

import type { StorageAdapter } from "../types.js";
import { createClient } from "./s3/client.js";
import { conditionalPut } from "./s3/conditional.js";
import { deleteObjects } from "./s3/delete.js";
import { getObject } from "./s3/get.js";
import { listObjects } from "./s3/list.js";
import { resolveS3Options, type S3AdapterOptions } from "./s3/options.js";
import { putObject } from "./s3/put.js";
import { abortStaleUploads } from "./s3/uploads.js";

export type { S3CredentialProvider, S3Credentials } from "./s3/credentials.js";
export { S3Error, type S3ErrorDetails } from "./s3/errors.js";
export type { S3AdapterOptions } from "./s3/options.js";
export type { RetryOptions as S3RetryOptions } from "./s3/retry.js";
export {
  awsS3,
  backblazeB2,
  cephRgw,
  cloudflareR2,
  digitalOceanSpaces,
  garage,
  googleCloudStorage,
  hetzner,
  minio,
  ovh,
  scaleway,
  tigris,
  wasabi,
} from "./s3/presets.js";

/**
 * Creates the adapter; every option is checked here (a `ConfigError` names the bad one).
 * Errors from the adapter's methods are `S3Error`s (or `AbortedError` after an abort); each
 * method reports the retries it makes to its options' `onRetry`.
 */
export function s3Adapter(options: S3AdapterOptions): StorageAdapter {
  const resolved = resolveS3Options(options);
  const client = createClient(resolved);
  const putIf = conditionalPut();
  return {
    name: "s3",
    ...(resolved.objectLock ? { objectLock: resolved.objectLock } : {}),
    list: (prefix, opts) => listObjects(client.reporting(opts?.onRetry), prefix, opts),
    put: (key, body, opts) => putObject(client.reporting(opts?.onRetry), key, body, opts),
    putIf: (key, body, condition, opts) => putIf(client.reporting(opts?.onRetry), key, body, condition, opts),
    get: (key, opts) => getObject(client.reporting(opts?.onRetry), key, opts),
    delete: (keys, opts) => deleteObjects(client.reporting(opts?.onRetry), keys, opts),
    cleanupIncomplete: (prefix, olderThan, opts) => abortStaleUploads(client.reporting(opts?.onRetry), prefix, olderThan, opts),
  };
}
