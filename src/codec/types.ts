/** What a codec offers the pipeline; its own module so that the codecs and their chooser (index.ts) do not import each other. */

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
  /** One whole block as one complete gzip member (mtime 0), for compressing blocks concurrently. */
  gzipBlock(block: Uint8Array, opts?: { level?: number }): Promise<Uint8Array>;
  /**
   * zstd compression, where the runtime's `node:zlib` has it (Node >= 22.15, Bun, Deno); absent
   * elsewhere (Node 20, workerd, the portable codec): there is no portable zstd encoder.
   */
  readonly zstd?: ZstdWriter;
  /** zstd in (one frame or several concatenated), original bytes out: `node:zlib` where it has zstd, else fzstd, loaded on first use. */
  unzstd(): Promise<ReadableWritablePair<Uint8Array, Uint8Array>>;
  sha256(): Hasher;
}

interface ZstdWriter {
  /** One whole block as one complete zstd frame with a content checksum; `level` 1-19, default 3. */
  block(block: Uint8Array, opts?: { level?: number }): Promise<Uint8Array>;
}

export type CodecPreference = "auto" | "native" | "portable";
