/** ListMultipartUploads through a raw signed request: what the server still holds open, which no adapter call shows. */
import { expect } from "vitest";
import { rawS3, type S3TestServer } from "../helpers/s3.js";

export async function openUploads(server: S3TestServer, bucket: string): Promise<Array<{ key: string; uploadId: string }>> {
  const res = await rawS3(server).fetch(`${bucket}?uploads`);
  const xml = await res.text();
  expect(res.status, xml).toBe(200);
  return [...xml.matchAll(/<Upload>[\s\S]*?<\/Upload>/g)].map((m) => ({
    key: /<Key>([^<]*)<\/Key>/.exec(m[0])?.[1] ?? "",
    uploadId: /<UploadId>([^<]*)<\/UploadId>/.exec(m[0])?.[1] ?? "",
  }));
}
