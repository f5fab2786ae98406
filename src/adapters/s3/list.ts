/**
 * ListObjectsV2 across all pages. Keys are requested URL-encoded (XML 1.0 cannot carry every
 * character a key may hold) and decoded only when the server says it encoded them; a server
 * that hands back a continuation token it gave before would loop forever, so that is an error.
 */

import type { ListEntry, ListOptions } from "../../types.js";
import type { S3Client } from "./client.js";
import { MAX_PAGE, listedKey, readXml, xmlBlocks, xmlText } from "./xml.js";

export async function* listObjects(client: S3Client, prefix: string, opts: ListOptions = {}): AsyncGenerator<ListEntry> {
  const operation = "list";
  const seen = new Set<string>();
  let token: string | undefined;
  for (;;) {
    const query: Record<string, string> = { "list-type": "2", prefix, "encoding-type": "url" };
    if (token !== undefined) query["continuation-token"] = token;
    // A page cut short or malformed is an error, never a shorter listing that would hide backups.
    const [xml, entries] = await client.request({ operation, method: "GET", query, signal: opts.signal }, async (r) => {
      const page = xmlBlocks(await readXml(r, MAX_PAGE, true), "ListBucketResult", true)[0];
      if (page === undefined) throw client.error({ operation }, "the server's answer is not a ListBucketResult");
      return [page, xmlBlocks(page, "Contents", true)] as const;
    });
    const urlEncoded = xmlText(xml, "EncodingType") === "url";
    for (const entry of entries) {
      const rawKey = xmlText(entry, "Key");
      const size = Number(xmlText(entry, "Size"));
      if (rawKey === undefined || !Number.isFinite(size)) throw client.error({ operation }, "a listed object has no Key or Size");
      const key = listedKey(rawKey, urlEncoded);
      const modified = xmlText(entry, "LastModified");
      const lastModified = modified === undefined ? undefined : new Date(modified);
      yield lastModified && !Number.isNaN(lastModified.getTime()) ? { key, size, lastModified } : { key, size };
    }
    if (xmlText(xml, "IsTruncated") !== "true") return;
    const next = xmlText(xml, "NextContinuationToken");
    if (!next) throw client.error({ operation }, "the listing is truncated but has no NextContinuationToken");
    if (seen.has(next)) throw client.error({ operation }, "the server repeated a continuation token; stopping instead of looping");
    seen.add(next);
    token = next;
  }
}
