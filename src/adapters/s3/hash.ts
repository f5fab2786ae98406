/**
 * Payload digests for the wire: SHA-256 hex for `x-amz-content-sha256`, MD5 base64 for
 * `Content-MD5`. `node:crypto` (Node, Bun, Deno, Workers with nodejs_compat) is several
 * times faster than Web Crypto, so it is used where the runtime has it (looked up by the
 * codec's loader, never imported statically); otherwise Web Crypto for SHA-256 and the
 * portable MD5. Bodies here are whole buffers (a part, a small XML document), so a one-shot
 * digest is all that is needed.
 */

import { builtinModule, loadBuiltin } from "../../codec/builtin.js";
import { md5 } from "./md5.js";

interface NodeHash {
  update(data: Uint8Array): NodeHash;
  digest(encoding: "hex" | "base64"): string;
}
interface NodeCrypto {
  createHash(algorithm: string): NodeHash;
}

// Looked up at once where the runtime answers synchronously (md5Base64 cannot wait); an
// older Node 20 gets it on the first sha256Hex.
let nodeCrypto = builtinModule<NodeCrypto>("node:crypto");

export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export async function sha256Hex(data: Uint8Array, portable?: boolean): Promise<string> {
  const node = portable ? undefined : (nodeCrypto ??= await loadBuiltin<NodeCrypto>("node:crypto"));
  if (node) return node.createHash("sha256").update(data).digest("hex");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function md5Base64(data: Uint8Array, portable = nodeCrypto === undefined): string {
  if (!portable) return nodeCrypto!.createHash("md5").update(data).digest("base64");
  return btoa(String.fromCharCode(...md5(data)));
}
