/**
 * Compression and hashing for the backup pipeline, chosen at run time: the native codec
 * (`node:zlib` + `node:crypto`) where the runtime has them, the portable one (fflate +
 * TypeScript SHA-256) everywhere else. Both read and write standard gzip, so either one
 * restores what the other (or `gzip`, or `pigz`) wrote.
 */

import { loadNativeCodec } from "./native.js";
import { portableCodec } from "./portable.js";

/** Incremental SHA-256. `digest()` ends it: a hasher is not reused. */
export interface Hasher {
  update(chunk: Uint8Array): void;
  /** Lowercase hex. */
  digest(): string;
}

/**
 * Streams of bytes in, bytes out, with backpressure on both sides and bounded memory.
 * A chunk written to `writable` belongs to the codec from then on (it may be read later,
 * on another thread): the writer must not modify it afterwards. Corrupt or truncated
 * input errors the stream with a plain `Error`.
 */
export interface Codec {
  readonly name: "native" | "portable";
  /** Standard gzip (mtime 0, so equal input gives equal output); `level` 0-9, default 6. */
  gzip(opts?: { level?: number }): ReadableWritablePair<Uint8Array, Uint8Array>;
  /** Gzip in, original bytes out; reads multi-member input; checks every member's CRC and size. */
  gunzip(): ReadableWritablePair<Uint8Array, Uint8Array>;
  sha256(): Hasher;
}

export type CodecPreference = "auto" | "native" | "portable";

const codecs = new Map<CodecPreference, Promise<Codec>>();

/**
 * The codec for this runtime. `"auto"` is native where available, else portable;
 * `"native"` rejects where the runtime lacks `node:zlib`/`node:crypto`.
 */
export function getCodec(prefer: CodecPreference = "auto"): Promise<Codec> {
  let codec = codecs.get(prefer);
  if (!codec) {
    codec = pickCodec(prefer);
    codecs.set(prefer, codec);
  }
  return codec;
}

async function pickCodec(prefer: CodecPreference): Promise<Codec> {
  if (prefer === "portable") return portableCodec;
  const native = await loadNativeCodec();
  if (native) return native;
  if (prefer === "native") throw new Error("native codec unavailable: this runtime has no node:zlib/node:crypto");
  return portableCodec;
}

/** True when `head` starts with the gzip magic bytes `1f 8b`. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}
