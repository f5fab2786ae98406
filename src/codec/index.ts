/**
 * Compression and hashing for the backup pipeline, chosen at run time: the native codec
 * (`node:zlib` + `node:crypto`) where the runtime has them, the portable one (fflate +
 * TypeScript SHA-256) everywhere else. Both read and write standard gzip, so either one
 * restores what the other (or `gzip`, or `pigz`) wrote; both read zstd, which only the native
 * one writes, and only where `node:zlib` has it. The portable codec is imported only where it is
 * picked, so a bundle for a runtime with `node:zlib` does not load fflate and the TypeScript
 * SHA-256 with the rest (bundlers put them in a chunk of their own).
 */

import { ConfigError } from "../errors.js";
import { builtinModule } from "./builtin.js";
import { loadNativeCodec, writesZstd } from "./native.js";
export type { Codec, CodecPreference } from "./types.js";
import type { Codec, CodecPreference } from "./types.js";

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

const portableCodec = async (): Promise<Codec> => (await import("./portable.js")).portableCodec;

async function pickCodec(prefer: CodecPreference): Promise<Codec> {
  if (prefer === "portable") return portableCodec();
  const native = await loadNativeCodec();
  if (native) return native;
  // The caller asked for it by name (the `codec` option): a configuration that cannot work here.
  if (prefer === "native") throw new ConfigError("codec", "native codec unavailable: this runtime has no node:zlib/node:crypto");
  return portableCodec();
}

/**
 * Whether the codec `prefer` picks here can write zstd: only the native one, where `node:zlib`
 * has a zstd compressor. Synchronous, so that `createBackupper` refuses `compression: "zstd"` at
 * once; a runtime without `getBuiltinModule` (Node < 20.16) has no zstd anyway.
 */
export function canWriteZstd(prefer: CodecPreference): boolean {
  return prefer !== "portable" && writesZstd(builtinModule("node:zlib"));
}

/** True when `head` starts with the gzip magic bytes `1f 8b`. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}
