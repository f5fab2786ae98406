/**
 * Cuts zstd input at frame boundaries, for `node:zlib`'s zstd decoder: on Node 24.21 and Deno
 * 2.9 it stops at the end of the first frame in a write, dropping whatever follows in that
 * write (`zstdDecompressSync` too), so concatenated frames (`compressionWorkers` > 1, RFC 8878
 * §3.1) decode only when each frame starts a write of its own. Parses just the frame and block
 * headers (§3.1.1); the bytes pass through uncopied.
 */

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const DICT_ID_BYTES = [0, 1, 2, 4];
const CONTENT_SIZE_BYTES = [0, 2, 4, 8];

type Mode = "magic" | "descriptor" | "frame-header" | "skippable-size" | "block-header" | "content";

export function frameAligned(): TransformStream<Uint8Array, Uint8Array> {
  let mode: Mode = "magic";
  // The header being read (at most 18 bytes), which may straddle chunks.
  let header: number[] = [];
  let want = 4;
  let remaining = 0;
  let checksum = false;
  let lastBlock = false;
  let received = 0;

  const word = (at: number) => (header[at]! | (header[at + 1]! << 8) | (header[at + 2]! << 16) | (header[at + 3]! << 24)) >>> 0;
  const expect = (next: Mode, bytes: number, reset: boolean) => {
    mode = next;
    want = bytes;
    if (reset) header = [];
  };

  /** Acts on a header read to its end. */
  const parsed = () => {
    if (mode === "magic") {
      const magic = word(0);
      if (magic === ZSTD_MAGIC) expect("descriptor", 5, false);
      else if ((magic & SKIPPABLE_MASK) === SKIPPABLE_MAGIC) expect("skippable-size", 8, false);
      else throw new Error("zstd data corrupt: no frame magic number");
    } else if (mode === "descriptor") {
      const descriptor = header[4]!;
      const single = (descriptor & 0x20) !== 0;
      const sizeFlag = descriptor >> 6;
      checksum = (descriptor & 0x04) !== 0;
      const length = 5 + (single ? 0 : 1) + DICT_ID_BYTES[descriptor & 3]! + (sizeFlag === 0 && single ? 1 : CONTENT_SIZE_BYTES[sizeFlag]!);
      if (length > 5) expect("frame-header", length, false);
      else expect("block-header", 3, true);
    } else if (mode === "frame-header") {
      expect("block-header", 3, true);
    } else if (mode === "skippable-size") {
      remaining = word(4);
      lastBlock = true;
      checksum = false;
      expect("content", 0, true);
    } else {
      // A block header: bit 0 last block, bits 1-2 type (raw, RLE, compressed, reserved), bits 3-23 size.
      const bits = header[0]! | (header[1]! << 8) | (header[2]! << 16);
      const type = (bits >> 1) & 3;
      if (type === 3) throw new Error("zstd data corrupt: reserved block type");
      lastBlock = (bits & 1) === 1;
      remaining = (type === 1 ? 1 : bits >>> 3) + (lastBlock && checksum ? 4 : 0);
      expect("content", 0, true);
    }
  };

  return new TransformStream({
    transform(chunk, controller) {
      received += chunk.length;
      let start = 0;
      let at = 0;
      // A block may have no content at all (an empty last block), so it can end where the chunk does.
      while (at < chunk.length || (mode === "content" && remaining === 0)) {
        if (mode === "content") {
          const take = Math.min(remaining, chunk.length - at);
          at += take;
          remaining -= take;
          if (remaining > 0) break;
          if (!lastBlock) {
            expect("block-header", 3, true);
            continue;
          }
          // A frame ends here: the next one starts a write of its own.
          controller.enqueue(chunk.subarray(start, at));
          start = at;
          expect("magic", 4, true);
          continue;
        }
        while (header.length < want && at < chunk.length) header.push(chunk[at++]!);
        if (header.length === want) parsed();
      }
      if (at > start) controller.enqueue(chunk.subarray(start, at));
    },
    flush() {
      if (received === 0) throw new Error("zstd data truncated: empty input");
      if (mode !== "magic" || header.length > 0) throw new Error("zstd data truncated: the last frame is incomplete");
    },
  });
}
