import { createHash } from "node:crypto";

/**
 * Deterministic, queue-database-like bytes (JSON rows with counters and pseudo-random fields),
 * produced in 1 MiB chunks so tests can stream hundreds of MiB without holding them.
 */
export function generatedChunks(size: number, seed = 1): () => Generator<Uint8Array> {
  return function* () {
    let x = seed >>> 0 || 1;
    let row = 0;
    const enc = new TextEncoder();
    const chunk = new Uint8Array(1 << 20);
    let produced = 0;
    while (produced < size) {
      const n = Math.min(chunk.length, size - produced);
      let fill = 0;
      while (fill < n) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        const line = enc.encode(`{"id":${row++},"queue":"q${x & 7}","attempts":${x & 3},"payload":"${(x >>> 0).toString(36)}${(x >>> 3).toString(16)}","ts":${1_700_000_000_000 + row}}\n`);
        const take = Math.min(line.length, n - fill);
        chunk.set(line.subarray(0, take), fill);
        fill += take;
      }
      produced += n;
      yield chunk.slice(0, n);
    }
  };
}

export function generatedStream(size: number, seed = 1): ReadableStream<Uint8Array> {
  const it = generatedChunks(size, seed)();
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const { done, value } = it.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
    },
    { highWaterMark: 0 },
  );
}

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
