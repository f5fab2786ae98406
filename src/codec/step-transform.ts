/**
 * Turns a synchronous push-style engine (fflate's streaming classes) into a stream pair
 * with backpressure on both sides: input is fed in slices, and before each slice the
 * engine waits until the consumer wants more, so one large input chunk (or a gzip bomb)
 * cannot flood memory with output.
 */

import { createCodecOutput } from "./output.js";

export interface Engine {
  write(chunk: Uint8Array): void;
  /** No more input: emit the rest, or throw if the input was incomplete. */
  end(): void;
}

/**
 * `slice` is the most input fed to the engine at a time: it bounds the output produced
 * between two checks of the consumer's demand (inflating can multiply size by 1000).
 */
export function stepTransform(
  start: (emit: (piece: Uint8Array) => void) => Engine,
  slice: number,
): ReadableWritablePair<Uint8Array, Uint8Array> {
  const output = createCodecOutput({ cancel() {} });
  const engine = start((piece) => output.push(piece));

  const run = (step: () => void) => {
    try {
      step();
    } catch (err) {
      output.error(err);
      throw err;
    }
  };

  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      for (let at = 0; at < chunk.length; at += slice) {
        await output.ready();
        run(() => engine.write(chunk.subarray(at, at + slice)));
      }
    },
    async close() {
      await output.ready();
      run(() => engine.end());
      output.close();
    },
    abort(reason) {
      output.error(reason);
    },
  });

  return { readable: output.readable, writable };
}
