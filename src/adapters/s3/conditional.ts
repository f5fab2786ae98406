/**
 * Conditional PutObject (`If-None-Match: *`, `If-Match: <etag>`), the capability a lease needs.
 * A lease object is a few hundred bytes, so this is always the single-PUT path. AWS, R2 and Ceph
 * RGW (16 and later) answer 412 PreconditionFailed when the condition does not hold; AWS answers
 * 409 ConditionalRequestConflict while another conditional write of the key is in flight, which
 * means the same to a caller racing for the key: someone else is writing it.
 */

import type { ConditionalPutResult, PutCondition, PutOptions } from "../../types.js";
import { etagOf, type S3Client } from "./client.js";
import { S3Error } from "./errors.js";
import { md5Base64 } from "./hash.js";

const LOST_RACE = new Set(["PreconditionFailed", "ConditionalRequestConflict"]);

export async function putObjectIf(
  client: S3Client,
  key: string,
  body: Uint8Array,
  condition: PutCondition,
  opts: PutOptions = {},
): Promise<ConditionalPutResult> {
  const headers: Record<string, string> = {
    "content-type": opts.contentType ?? "application/octet-stream",
    ...client.options.createHeaders,
    ...("ifNoneMatch" in condition ? { "if-none-match": "*" } : { "if-match": condition.ifMatch }),
    ...(client.options.objectLock ? { "content-md5": md5Base64(body) } : {}),
  };
  try {
    const etag = await client.request({ operation: "put", method: "PUT", key, headers, body, signal: opts.signal }, etagOf);
    if (etag === undefined) throw client.error({ operation: "put", key }, "the server answered a conditional put without an ETag");
    return { written: true, etag };
  } catch (err) {
    if (err instanceof S3Error && ((err.s3Code !== undefined && LOST_RACE.has(err.s3Code)) || err.status === 412)) return { written: false };
    throw err;
  }
}
