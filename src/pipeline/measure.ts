import type { Codec } from "../codec/index.js";

/** Size and SHA-256 of the bytes passing one point of a pipeline: the original, or the stored. */
export interface Meter {
  readonly size: number;
  add(chunk: Uint8Array): void;
  /** Lowercase hex; ends the meter. */
  digest(): string;
}

export function meter(codec: Codec): Meter {
  const hash = codec.sha256();
  const measured = {
    size: 0,
    add(chunk: Uint8Array) {
      hash.update(chunk);
      measured.size += chunk.byteLength;
    },
    digest: () => hash.digest(),
  };
  return measured;
}
