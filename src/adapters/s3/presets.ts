/**
 * Endpoint, region and addressing for the common providers, to spread into `s3Adapter`'s
 * options next to `bucket` and the credentials:
 * `s3Adapter({ ...cloudflareR2({ accountId }), bucket, accessKeyId, secretAccessKey })`.
 * Each is a plain options object; the README's provider table lists the same values (a test
 * compares them) with each provider's known limits.
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

/** Backblaze B2: the region is the one in the bucket's endpoint (`us-west-004`, `eu-central-003`). */
export function backblazeB2(opts: { region: string }): Preset {
  return { region: opts.region, endpoint: `https://s3.${opts.region}.backblazeb2.com` };
}

/** Wasabi: the bucket's region (`us-east-1`, `eu-central-1`, …). */
export function wasabi(opts: { region: string }): Preset {
  return { region: opts.region, endpoint: `https://s3.${opts.region}.wasabisys.com` };
}

/** Google Cloud Storage's XML API with HMAC keys; it signs any region, `auto` by convention. */
export function googleCloudStorage(): Preset {
  return { region: "auto", endpoint: "https://storage.googleapis.com" };
}

/** Hetzner Object Storage: the region is the location (`fsn1`, `nbg1`, `hel1`). */
export function hetzner(opts: { location: string }): Preset {
  return { region: opts.location, endpoint: `https://${opts.location}.your-objectstorage.com` };
}

/** Scaleway Object Storage: `fr-par`, `nl-ams`, `pl-waw`. */
export function scaleway(opts: { region: string }): Preset {
  return { region: opts.region, endpoint: `https://s3.${opts.region}.scw.cloud` };
}

/** OVHcloud Object Storage: the lower-case region (`gra`, `sbg`, `bhs`, …). */
export function ovh(opts: { region: string }): Preset {
  return { region: opts.region, endpoint: `https://s3.${opts.region}.io.cloud.ovh.net` };
}

/** Tigris: one global endpoint, region `auto`. */
export function tigris(): Preset {
  return { region: "auto", endpoint: "https://t3.storage.dev" };
}

/** Garage: path-style, signed with its configured `s3_region` (default `garage`). */
export function garage(opts: { endpoint: string; region?: string }): Preset {
  return { region: opts.region ?? "garage", endpoint: opts.endpoint, forcePathStyle: true };
}

/** Ceph RGW: path-style; its zonegroup accepts `us-east-1` unless configured otherwise. */
export function cephRgw(opts: { endpoint: string; region?: string }): Preset {
  return { region: opts.region ?? "us-east-1", endpoint: opts.endpoint, forcePathStyle: true };
}
