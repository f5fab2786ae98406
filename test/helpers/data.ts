import { createHash } from "node:crypto";

export { generatedStream } from "./generate.mjs";
export { chunksOf } from "../../src/testing.js";
import { streamSource } from "../../src/index.js";
import { generatedChunks } from "./generate.mjs";

export function sha256Generated(size: number, seed = 1): string {
  const h = createHash("sha256");
  for (const c of generatedChunks(size, seed)()) h.update(c);
  return h.digest("hex");
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function randomBytes(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A source whose stream stays open until `release()` is called, to hold a backup in flight. */
export function gatedSource() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const source = streamSource(
    () =>
      new ReadableStream({
        async pull(c) {
          await gate;
          c.enqueue(randomBytes(1000));
          c.close();
        },
      }),
    { name: "gated" },
  );
  return { source, release };
}
