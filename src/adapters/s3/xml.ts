/**
 * Just enough XML for the handful of S3 responses this adapter reads (ListObjectsV2,
 * DeleteObjects results, errors, multipart ids). S3's responses are flat, namespace-free in
 * practice and never nest an element inside one of the same name, so tag scanning is exact
 * for them and costs a fraction of an XML library.
 */

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

/** The raw inner text of every `<tag>…</tag>` in `xml` (also matches `<tag attr="…">`). */
export function xmlBlocks(xml: string, tag: string): string[] {
  const out: string[] = [];
  const open = new RegExp(`<${tag}(?:\\s[^>]*)?>`, "g");
  const close = `</${tag}>`;
  for (let m = open.exec(xml); m; m = open.exec(xml)) {
    const start = m.index + m[0].length;
    const end = xml.indexOf(close, start);
    if (end < 0) break;
    out.push(xml.slice(start, end));
    open.lastIndex = end + close.length;
  }
  return out;
}

/** The decoded text of the first `<tag>`, or undefined when there is none (`<tag/>` is ""). */
export function xmlText(xml: string, tag: string): string | undefined {
  const block = xmlBlocks(xml, tag)[0];
  if (block !== undefined) return decodeXml(block);
  return new RegExp(`<${tag}\\s*/>`).test(xml) ? "" : undefined;
}
