/**
 * The codec for runtimes without Node built-ins (Workers without nodejs_compat,
 * browsers): fflate's streaming classes and a pure TypeScript SHA-256. Not
 * `CompressionStream`: on Node 20 it pulls the whole input into memory.
 */

import { Gzip, gzipSync } from "fflate";
import { checkedGunzip } from "./checked-gunzip.js";
import type { Codec } from "./types.js";
import { gzipLevel } from "./level.js";
import { portableUnzstd } from "./portable-zstd.js";
import { portableSha256 } from "./sha256.js";
import { stepTransform, type Engine } from "./step-transform.js";

// Compressing only shrinks, so large slices are fine. 8 KiB of deflate data inflates to at
// most ~8 MiB, and fflate's per-push overhead (a 32 KiB window copy) stays small next to
// inflating.
const GZIP_SLICE = 64 * 1024;
const GUNZIP_SLICE = 8 * 1024;

export const portableCodec: Codec = {
  name: "portable",
  gzip(opts) {
    const level = gzipLevel(opts?.level);
    return stepTransform((emit) => {
      // mtime 0: the same input always gives the same bytes, as with `gzip -n`.
      const deflater = new Gzip({ level, mtime: 0 }, (data) => emit(data));
      return fixedBlocks((block, final) => deflater.push(block, final));
    }, GZIP_SLICE);
  },
  gunzip() {
    return stepTransform(checkedGunzip, GUNZIP_SLICE);
  },
  async gzipBlock(block, opts) {
    return gzipSync(block, { level: gzipLevel(opts?.level), mtime: 0 });
  },
  unzstd: portableUnzstd,
  sha256: portableSha256,
};

const BLOCK = 64 * 1024;

/**
 * fflate's deflate output depends on how its input was cut; feeding it fixed-size blocks
 * makes the gzip bytes depend on the data alone, however the source chunked it.
 */
function fixedBlocks(push: (block: Uint8Array, final: boolean) => void): Engine {
  // Reused: fflate copies what it is given.
  const pending = new Uint8Array(BLOCK);
  let filled = 0;
  return {
    write(chunk) {
      let at = 0;
      if (filled > 0) {
        at = Math.min(BLOCK - filled, chunk.length);
        pending.set(chunk.subarray(0, at), filled);
        filled += at;
        if (filled < BLOCK) return;
        push(pending, false);
        filled = 0;
      }
      for (; chunk.length - at >= BLOCK; at += BLOCK) push(chunk.subarray(at, at + BLOCK), false);
      pending.set(chunk.subarray(at), 0);
      filled = chunk.length - at;
    },
    end() {
      push(pending.subarray(0, filled), true);
    },
  };
}
