/**
 * Incremental SHA-256 in plain TypeScript (FIPS 180-4) for runtimes without `node:crypto`:
 * Web Crypto's `digest` is one-shot and would need the whole backup in memory.
 */

import type { Hasher } from "./types.js";

/**
 * The first 32 bits of the fractional parts of the `degree`-th roots of the first `count` primes:
 * SHA-256's constants (FIPS 180-4 §4.2.2: cube roots of 64 primes; §5.3.3: square roots of 8).
 * Derived exactly in integers, as floor(root(p · 2^(32 · degree))) mod 2^32, from an estimate
 * in floating point corrected by at most a few steps, so no engine's rounding can change a bit.
 */
function rootFractions(count: number, degree: number): Int32Array {
  const out = new Int32Array(count);
  const d = BigInt(degree);
  for (let p = 2, i = 0; i < count; p++) {
    let prime = true;
    for (let q = 2; q * q <= p; q++) if (p % q === 0) prime = false;
    if (!prime) continue;
    const x = BigInt(p) << (32n * d);
    let r = BigInt(Math.floor(p ** (1 / degree) * 2 ** 32));
    while ((r + 1n) ** d <= x) r++;
    while (r ** d > x) r--;
    out[i++] = Number(r & 0xffffffffn);
  }
  return out;
}

const K = rootFractions(64, 3);
const INITIAL = rootFractions(8, 2);

export function portableSha256(): Hasher {
  const h = new Int32Array(INITIAL);
  const w = new Int32Array(64);
  const block = new Uint8Array(64);
  let buffered = 0;
  let total = 0;
  let done = false;

  const update = (chunk: Uint8Array) => {
    if (done) throw new Error("sha256: digest() was already called");
    total += chunk.length;
    let at = 0;
    if (buffered > 0) {
      at = Math.min(64 - buffered, chunk.length);
      block.set(chunk.subarray(0, at), buffered);
      buffered += at;
      if (buffered < 64) return;
      compress(h, w, block, 0);
      buffered = 0;
    }
    at = compress(h, w, chunk, at);
    block.set(chunk.subarray(at), 0);
    buffered = chunk.length - at;
  };

  return {
    update,
    digest() {
      const bits = total * 8;
      const padding = new Uint8Array((buffered < 56 ? 56 : 120) - buffered + 8);
      padding[0] = 0x80;
      const view = new DataView(padding.buffer);
      view.setUint32(padding.length - 8, Math.floor(bits / 2 ** 32));
      view.setUint32(padding.length - 4, bits >>> 0);
      update(padding);
      done = true;
      let hex = "";
      for (const word of h) hex += (word >>> 0).toString(16).padStart(8, "0");
      return hex;
    },
  };
}

/** Compresses the 64-byte blocks of `data` from `at` on into `h`; returns where it stopped. */
function compress(h: Int32Array, w: Int32Array, data: Uint8Array, at: number): number {
  let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!, h6 = h[6]!, h7 = h[7]!;
  for (; at + 64 <= data.length; at += 64) {
    for (let i = 0; i < 16; i++) {
      const o = at + i * 4;
      w[i] = (data[o]! << 24) | (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!, b = w[i - 2]!;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7;
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + s1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0;
      d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + hh) | 0;
  }
  h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7;
  return at;
}
