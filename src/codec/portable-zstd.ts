/**
 * The zstd decoder for runtimes whose `node:zlib` has none (Node 20, workerd, the portable
 * codec): fzstd's streaming `Decompress`. Imported on first use, so that a bundle which never
 * reads zstd does not carry it.
 */
import { stepTransform } from "./step-transform.js";

/**
 * One zstd block inflates to at most 128 KiB, and an RLE block takes 4 bytes of input, so a
 * slice of this many bytes emits at most 16 MiB before the consumer's demand is checked again.
 * fzstd holds a partial block without copying until the block is complete, so small slices stay cheap.
 */
const UNZSTD_SLICE = 512;

export async function portableUnzstd(): Promise<ReadableWritablePair<Uint8Array, Uint8Array>> {
  const { Decompress } = await import("fzstd");
  return stepTransform((emit) => {
    let received = 0;
    const decoder = new Decompress((data) => emit(data));
    return {
      write(chunk) {
        received += chunk.length;
        decoder.push(chunk);
      },
      end() {
        // fzstd takes no input at all for an empty stream; an empty object is no zstd data.
        if (received === 0) throw new Error("zstd data truncated: empty input");
        decoder.push(new Uint8Array(0), true);
      },
    };
  }, UNZSTD_SLICE);
}
