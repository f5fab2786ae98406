/**
 * Conditional PutObject (`If-None-Match: *`, `If-Match: <etag>`), the capability a lease needs.
 * A lease object is a few hundred bytes, so this is always the single-PUT path. AWS, R2 and Ceph
 * RGW (16 and later) answer 412 PreconditionFailed when the condition does not hold; AWS answers
 * 409 ConditionalRequestConflict while another conditional write of the key is in flight, which
 * means the same to a caller racing for the key: someone else is writing it.
 *
 * Ceph RGW 16 compares `If-Match` with the ETag without its quotes, so the quoted tag every
 * server returns (RFC 9110's form, which AWS takes) always fails there. A 412 to `If-Match` is
 * therefore checked with a HEAD: if the object's ETag is the one we named, the server refused a
 * match, and the put is sent again, still conditional, with the tag unquoted, which this client
 * then keeps using. A put that fails on a real mismatch costs that one HEAD more.
 */

import type { ConditionalPutResult, PutCondition, PutOptions } from "../../types.js";
import { etagOf, type S3Client } from "./client.js";
import { S3Error } from "./errors.js";
import { digestHeaders } from "./put.js";

const LOST_RACE = new Set(["PreconditionFailed", "ConditionalRequestConflict"]);

type PutIf = (client: S3Client, key: string, body: Uint8Array, condition: PutCondition, opts?: PutOptions) => Promise<ConditionalPutResult>;

const unquote = (etag: string) => etag.replace(/^"(.*)"$/, "$1");

/** The conditional put of one adapter, which remembers whether its server wants `If-Match` unquoted. */
export function conditionalPut(): PutIf {
  let unquoted = false;

  const attempt = async (client: S3Client, key: string, body: Uint8Array, condition: Record<string, string>, opts: PutOptions): Promise<ConditionalPutResult> => {
    const headers: Record<string, string> = {
      "content-type": opts.contentType ?? "application/octet-stream",
      ...client.options.createHeaders,
      ...condition,
      ...digestHeaders(client, body),
    };
    try {
      const etag = await client.request({ operation: "put", method: "PUT", key, headers, body, signal: opts.signal }, etagOf);
      if (etag === undefined) throw client.error({ operation: "put", key }, "the server answered a conditional put without an ETag");
      return { written: true, etag };
    } catch (err) {
      if (err instanceof S3Error && ((err.s3Code !== undefined && LOST_RACE.has(err.s3Code)) || err.status === 412)) return { written: false };
      // AWS answers If-Match on a missing key with NoSuchKey: no object, so no match.
      if (err instanceof S3Error && err.s3Code === "NoSuchKey" && "if-match" in condition) return { written: false };
      throw err;
    }
  };

  return async (client, key, body, condition, opts = {}) => {
    if ("ifNoneMatch" in condition) return attempt(client, key, body, { "if-none-match": "*" }, opts);
    const tag = unquoted ? unquote(condition.ifMatch) : condition.ifMatch;
    const result = await attempt(client, key, body, { "if-match": tag }, opts);
    if (result.written || unquoted || tag === unquote(tag)) return result;
    const current = await client
      .request({ operation: "put (check etag)", method: "HEAD", key, headers: client.options.keyHeaders, signal: opts.signal }, etagOf)
      .catch((err: unknown) => {
        if (err instanceof S3Error && (err.status === 404 || err.s3Code === "NoSuchKey")) return undefined;
        throw err;
      });
    if (current !== condition.ifMatch) return result;
    unquoted = true;
    return attempt(client, key, body, { "if-match": unquote(tag) }, opts);
  };
}
