/**
 * DeleteObjects in batches of 1000 (the S3 limit), each signed with its Content-MD5 as S3
 * requires. Per-key failures in the result become one error naming every key that is still
 * there. Servers without DeleteObjects get one DELETE per key instead: some gateways answer
 * NotImplemented, and Google Cloud Storage's XML API answers NotImplemented or 400
 * InvalidArgument (it has no multi-object delete). A key that did not exist is success either way.
 */

import type { DeleteOptions } from "../../types.js";
import { mapLimit } from "../../util/concurrency.js";
import { drain, type S3Client } from "./client.js";
import { S3Error } from "./errors.js";
import { md5Base64 } from "./hash.js";
import { escapeXml, MAX_PAGE, readXml, xmlBlocks, xmlText } from "./xml.js";

const BATCH = 1000;

export async function deleteObjects(client: S3Client, keys: readonly string[], opts: DeleteOptions = {}): Promise<void> {
  let bulk = true;
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    if (bulk) {
      try {
        await deleteBatch(client, batch, opts.signal);
        continue;
      } catch (err) {
        if (!(err instanceof S3Error && (err.s3Code === "NotImplemented" || err.status === 501 || err.s3Code === "InvalidArgument"))) throw err;
        bulk = false;
      }
    }
    await deleteEach(client, batch, opts.signal);
  }
}

async function deleteBatch(client: S3Client, keys: readonly string[], signal: AbortSignal | undefined): Promise<void> {
  const operation = "delete";
  const xml = `<Delete><Quiet>true</Quiet>${keys.map((k) => `<Object><Key>${escapeXml(k)}</Key></Object>`).join("")}</Delete>`;
  const body = new TextEncoder().encode(xml);
  const errors = await client.request(
    {
      operation,
      method: "POST",
      query: { delete: "" },
      headers: { "content-md5": md5Base64(body), "content-type": "application/xml" },
      body,
      signal,
    },
    async (r) => xmlBlocks(await readXml(r, MAX_PAGE, true), "Error", true),
  );
  const failed = errors
    .map((e) => ({ key: xmlText(e, "Key"), code: xmlText(e, "Code") }))
    .filter((e) => e.code !== "NoSuchKey");
  if (failed.length === 0) return;
  const list = failed.map((e) => `${JSON.stringify(e.key)} (${e.code ?? "unknown error"})`).join(", ");
  throw client.error({ operation }, `${failed.length} of ${keys.length} keys could not be deleted: ${list}`);
}

async function deleteEach(client: S3Client, keys: readonly string[], signal: AbortSignal | undefined): Promise<void> {
  await mapLimit(keys, client.options.concurrency, (key) =>
    client.request({ operation: "delete", method: "DELETE", key, signal }, drain),
  );
}
