// Plain JavaScript so child processes can run it against the built package without a TS loader
// (which alone adds ~50 MiB of RSS and would swamp memory measurements).

/**
 * Deterministic PRNG (mulberry32) returning floats in [0, 1), so generated data and failing
 * random cases can be reproduced from their seed.
 * @param {number} seed
 * @returns {() => number}
 */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Deterministic, queue-database-like bytes (JSON rows with counters and pseudo-random fields),
 * produced in 1 MiB chunks so tests can stream hundreds of MiB without holding them.
 * @param {number} size
 * @param {number} [seed]
 * @returns {() => Generator<Uint8Array>}
 */
export function generatedChunks(size, seed = 1) {
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
        const line = enc.encode(
          `{"id":${row++},"queue":"q${x & 7}","attempts":${x & 3},"payload":"${(x >>> 0).toString(36)}${(x >>> 3).toString(16)}","ts":${1_700_000_000_000 + row}}\n`,
        );
        const take = Math.min(line.length, n - fill);
        chunk.set(line.subarray(0, take), fill);
        fill += take;
      }
      produced += n;
      yield chunk.slice(0, n);
    }
  };
}

/**
 * @param {number} size
 * @param {number} [seed]
 * @returns {ReadableStream<Uint8Array>}
 */
export function generatedStream(size, seed = 1) {
  const it = generatedChunks(size, seed)();
  return new ReadableStream(
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
