/**
 * Endpoint, region and addressing for the common providers, to spread into `s3Adapter`'s
 * options next to `bucket` and the credentials:
 * `s3Adapter({ ...cloudflareR2({ accountId }), bucket, accessKeyId, secretAccessKey })`.
 */

import type { S3AdapterOptions } from "./options.js";

type Preset = Pick<S3AdapterOptions, "region" | "endpoint" | "forcePathStyle" | "concurrency">;

/** AWS S3: virtual-hosted `https://<bucket>.s3.<region>.amazonaws.com`. */
export function awsS3(opts: { region: string }): Preset {
  return { region: opts.region };
}

/**
 * Cloudflare R2: region `auto`, and at most 2 parts in flight (R2 throttles concurrent
 * uploads to one object). `jurisdiction` is `"eu"` or `"fedramp"` for those buckets.
 */
export function cloudflareR2(opts: { accountId: string; jurisdiction?: string }): Preset {
  const host = opts.jurisdiction ? `${opts.accountId}.${opts.jurisdiction}` : opts.accountId;
  return { region: "auto", endpoint: `https://${host}.r2.cloudflarestorage.com`, concurrency: 2 };
}

/** MinIO (and most self-hosted servers): path-style addressing; MinIO's default region is `us-east-1`. */
export function minio(opts: { endpoint: string; region?: string }): Preset {
  return { region: opts.region ?? "us-east-1", endpoint: opts.endpoint, forcePathStyle: true };
}

/** DigitalOcean Spaces: region is the datacenter slug (`nyc3`, `fra1`, …). */
export function digitalOceanSpaces(opts: { region: string }): Preset {
  return { region: opts.region, endpoint: `https://${opts.region}.digitaloceanspaces.com` };
}
