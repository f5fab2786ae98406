/**
 * Just enough XML for the handful of S3 responses this adapter reads (ListObjectsV2,
 * DeleteObjects results, errors, multipart ids). S3's responses are flat, namespace-free in
 * practice and never nest an element inside one of the same name, so tag scanning is exact
 * for them and costs a fraction of an XML library. A hostile or broken server may send
 * anything, so answers are read up to a cap and scanned in linear time: every search starts
 * where the previous one ended, and no regular expression backtracks over an unclosed tag.
 */

import { bodyChunks } from "../body.js";

/** An answer that cannot be used whole: longer than its cap, or with an element left open. */
export class XmlError extends Error {}

/**
 * Cap for a listing page or a DeleteObjects result: 1000 entries whose 1 KiB keys are
 * URL-encoded or entity-escaped stay under 7 MiB.
 */
export const MAX_PAGE = 8 * 1024 * 1024;

/**
 * A response body's text, read up to `limit` bytes: the rest is cancelled unread, so an
 * enormous or endless body costs neither memory nor time. A longer body is an `XmlError` with
 * `strict` (a document cut short could drop listed keys); without, its first `limit` bytes
 * are the text (an error document's Code comes first).
 */
export async function readXml(res: Response, limit: number, strict?: boolean): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  let room = limit;
  // Leaving the loop, by break or throw, cancels the stream.
  for await (const chunk of bodyChunks(res.body ?? new Uint8Array())) {
    text += decoder.decode(chunk.subarray(0, room), { stream: true });
    room -= chunk.length;
    if (room < 0) {
      if (strict) throw new XmlError(`the server's answer is longer than ${limit} bytes`);
      break;
    }
  }
  return text + decoder.decode();
}

const ENTITY = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|quot|apos));/g;
const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

export function decodeXml(text: string): string {
  return text.replace(ENTITY, (_, hex: string | undefined, dec: string | undefined, name: string | undefined) =>
    name !== undefined ? (NAMED[name] ?? "") : String.fromCodePoint(parseInt(hex ?? dec ?? "0", hex ? 16 : 10)),
  );
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" }[c]};`);
}

/**
 * The raw inner text of every `<tag>…</tag>` in `xml` (also `<tag attr="…">`; "" for
 * `<tag/>`). An element left open ends the scan: with `strict` that is an `XmlError` (a
 * listing or a delete result must never read as one with fewer entries); without, the
 * elements before it are returned (enough to read the Code of an error body cut at its cap).
 */
export function xmlBlocks(xml: string, tag: string, strict?: boolean): string[] {
  const out: string[] = [];
  const close = `</${tag}>`;
  for (let at = 0; (at = xml.indexOf(`<${tag}`, at)) >= 0; ) {
    at += tag.length + 1;
    // `<Key` also starts `<KeyCount>`: only whitespace, `/` or `>` end the name.
    if (!/[\s/>]/.test(xml.charAt(at))) continue;
    const start = xml.indexOf(">", at) + 1;
    const empty = xml[start - 2] === "/";
    // 0 when the start tag never ends, -1 when the element is never closed.
    const end = start && (empty ? start : xml.indexOf(close, start));
    if (end <= 0) {
      if (strict) throw new XmlError(`the server's answer leaves <${tag}> unclosed`);
      break;
    }
    out.push(xml.slice(start, end));
    at = empty ? end : end + close.length;
  }
  return out;
}

/** The decoded text of the first `<tag>`, or undefined when there is none (`<tag/>` is ""). */
export function xmlText(xml: string, tag: string): string | undefined {
  const block = xmlBlocks(xml, tag)[0];
  return block === undefined ? undefined : decodeXml(block);
}

/** A key as listed: with `encoding-type=url` the server URL-encodes keys, with `+` for spaces as in a form. */
export function listedKey(raw: string, urlEncoded: boolean): string {
  return urlEncoded ? decodeURIComponent(raw.replace(/\+/g, " ")) : raw;
}
