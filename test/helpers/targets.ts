import { createHash } from "node:crypto";
import type { RestoreTarget } from "../../src/types.js";

/** A restore target that keeps only the SHA-256 and length of what it is given, for very large restores. */
export function hashingTarget(): RestoreTarget & { result: { size: number; sha256: string } | undefined } {
  const target = {
    description: "hash",
    result: undefined as { size: number; sha256: string } | undefined,
    async begin() {
      const h = createHash("sha256");
      let size = 0;
      return {
        write(chunk: Uint8Array) {
          h.update(chunk);
          size += chunk.byteLength;
        },
        async commit() {
          target.result = { size, sha256: h.digest("hex") };
        },
        async abort() {},
      };
    },
  };
  return target;
}
