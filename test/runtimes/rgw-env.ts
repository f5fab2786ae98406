/** A fresh bucket on Ceph RGW and the S3_* variables that point a child process at it. */
import { createBucket, s3Env, s3Server, type S3TestServer } from "../helpers/s3.js";

export interface RgwBucket {
  server: S3TestServer;
  bucket: string;
  /** process.env plus S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY. */
  env: NodeJS.ProcessEnv;
}

export async function rgwBucket(): Promise<RgwBucket> {
  const server = await s3Server("rgw");
  const bucket = await createBucket(server);
  const env = {
    ...process.env,
    ...s3Env(server, bucket),
  };
  return { server, bucket, env };
}
