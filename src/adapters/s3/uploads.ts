/**
 * Multipart uploads that nobody will finish: a process killed between CreateMultipartUpload
 * and Complete/Abort leaves one, invisible to listings but billed by the provider until
 * aborted. Pruning finds them with ListMultipartUploads and aborts those older than the grace
 * period; a live upload started later than that is left alone.
 */

import type { CleanupOptions } from "../../types.js";
import { drain, type S3Client } from "./client.js";
import { S3Error } from "./errors.js";
import { MAX_PAGE, listedKey, readXml, xmlBlocks, xmlText } from "./xml.js";

interface Upload {
  key: string;
  uploadId: string;
  initiated: Date;
}

async function* listUploads(client: S3Client, prefix: string, signal: AbortSignal | undefined): AsyncGenerator<Upload> {
  const operation = "list multipart uploads";
  const seen = new Set<string>();
  let markers: Record<string, string> = {};
  for (;;) {
    const query = { uploads: "", prefix, "encoding-type": "url", ...markers };
    // A page cut short or malformed is an error: a shorter listing would leave uploads billed forever.
    const [xml, blocks] = await client.request({ operation, method: "GET", query, signal }, async (r) => {
      const page = xmlBlocks(await readXml(r, MAX_PAGE, true), "ListMultipartUploadsResult", true)[0];
      if (page === undefined) throw client.error({ operation }, "the server's answer is not a ListMultipartUploadsResult");
      return [page, xmlBlocks(page, "Upload", true)] as const;
    });
    const urlEncoded = xmlText(xml, "EncodingType") === "url";
    for (const block of blocks) {
      const rawKey = xmlText(block, "Key");
      const uploadId = xmlText(block, "UploadId");
      const initiated = new Date(xmlText(block, "Initiated") ?? "");
      if (rawKey === undefined || !uploadId || Number.isNaN(initiated.getTime())) {
        throw client.error({ operation }, "a listed upload has no Key, UploadId or Initiated time");
      }
      yield { key: listedKey(rawKey, urlEncoded), uploadId, initiated };
    }
    if (xmlText(xml, "IsTruncated") !== "true") return;
    const keyMarker = xmlText(xml, "NextKeyMarker") ?? "";
    const uploadIdMarker = xmlText(xml, "NextUploadIdMarker") ?? "";
    const token = `${keyMarker}\n${uploadIdMarker}`;
    if ((!keyMarker && !uploadIdMarker) || seen.has(token)) {
      throw client.error({ operation }, "the upload listing is truncated but its markers do not advance; stopping instead of looping");
    }
    seen.add(token);
    markers = { "key-marker": keyMarker, "upload-id-marker": uploadIdMarker };
  }
}

export async function abortStaleUploads(client: S3Client, prefix: string, olderThan: Date, opts: CleanupOptions = {}): Promise<string[]> {
  const stale: Upload[] = [];
  for await (const upload of listUploads(client, prefix, opts.signal)) {
    if (upload.initiated.getTime() < olderThan.getTime() && (opts.match?.(upload.key) ?? true)) stale.push(upload);
  }
  const aborted: string[] = [];
  for (const { key, uploadId } of stale) {
    try {
      await client.request(
        { operation: "abort multipart upload", method: "DELETE", key, query: { uploadId }, signal: opts.signal },
        drain,
      );
    } catch (error) {
      // Finished or aborted by someone else since the listing: nothing left to remove.
      if (!(error instanceof S3Error && error.s3Code === "NoSuchUpload")) throw error;
    }
    aborted.push(`${key} (multipart upload ${uploadId})`);
  }
  return aborted;
}
