/**
 * Run by test/codec/runtimes.test.ts under Node, Bun and Deno (no vitest there): exercises both
 * codecs with Web APIs only and prints what it found as JSON, for the test to assert on.
 * With `--no-node-builtins` it first hides `process`, as on Workers without nodejs_compat.
 */
import type { Codec } from "../../../src/codec/index.js";

if (process.argv.includes("--no-node-builtins")) {
  Object.defineProperty(globalThis, "process", { value: undefined });
}
const { getCodec } = await import("../../../src/codec/index.js");

async function run(pair: ReadableWritablePair<Uint8Array, Uint8Array>, chunks: Uint8Array[]): Promise<Uint8Array> {
  let i = 0;
  const source = new ReadableStream<Uint8Array>({
    pull: (c) => (i < chunks.length ? c.enqueue(chunks[i++]!) : c.close()),
  });
  return new Uint8Array(await new Response(source.pipeThrough(pair)).arrayBuffer());
}

const cut = (data: Uint8Array, size: number) =>
  Array.from({ length: Math.ceil(data.length / size) }, (_, k) => data.slice(k * size, (k + 1) * size));
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, k) => v === b[k]);

const data = new Uint8Array(3_000_000);
for (let k = 0; k < data.length; k++) data[k] = (k * 7 + (k >> 10)) % 251 < 200 ? k % 61 : (k * 2654435761) >>> 24;

async function check(codec: Codec, other: Codec) {
  const gz = await run(codec.gzip(), cut(data, 100_003));
  const roundTrip = equal(await run(codec.gunzip(), cut(gz, 7777)), data);
  const crossCodec = equal(await run(other.gunzip(), cut(gz, 65_536)), data);
  const twoMembers = new Uint8Array([...gz, ...gz]);
  const multiMember = equal(await run(codec.gunzip(), cut(twoMembers, 50_000)), new Uint8Array([...data, ...data]));
  const truncatedErrors = await run(codec.gunzip(), [gz.subarray(0, gz.length - 3)]).then(
    () => false,
    () => true,
  );
  // Two concatenated frames (as compressionWorkers writes them) of `zstd -19`, base64: every codec reads zstd, natively or with fzstd.
  const frame = Uint8Array.from(atob("KLUv/QRo7QAAqGJhY2t1cHBlciB6c3RkIGNoZWNrIAEAoQD7yQSBjsOn"), (c) => c.charCodeAt(0));
  const zstdRead = new TextDecoder().decode(await run(await codec.unzstd(), [frame, frame.subarray(0, 9), frame.subarray(9)])) === "backupper zstd check ".repeat(400);
  const hasher = codec.sha256();
  for (const chunk of cut(data, 1000)) hasher.update(chunk);
  return { name: codec.name, roundTrip, crossCodec, multiMember, truncatedErrors, zstdRead, sha256: hasher.digest() };
}

const [auto, portable] = await Promise.all([getCodec(), getCodec("portable")]);
const native = await getCodec("native").catch((error: Error) => error);
console.log(
  JSON.stringify({
    auto: auto.name,
    native: native instanceof Error ? native.message : await check(native, portable),
    portable: await check(portable, native instanceof Error ? portable : native),
  }),
);
