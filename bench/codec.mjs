// Throughput of the two codecs (MB/s of original bytes, median of RUNS), one core.
// Usage: node --import tsx bench/codec.mjs [megabytes=200] [runs=3]
import { spawnSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { getCodec } from "../src/codec/index.ts";
import { compressible } from "../test/codec/helpers.ts";
import { medianMBps } from "./median.mjs";

const size = Number(process.argv[2] ?? 200) * 1e6;
const runs = Number(process.argv[3] ?? 3);
const CHUNK = 1024 * 1024;

const data = compressible(size);
const gz = gzipSync(data, { level: 6 });
const chunksOf = (buf) => Array.from({ length: Math.ceil(buf.length / CHUNK) }, (_, i) => buf.subarray(i * CHUNK, (i + 1) * CHUNK));
const plain = chunksOf(data);
const packed = chunksOf(gz);

const source = (chunks) => {
  let i = 0;
  return new ReadableStream({ pull: (c) => (i < chunks.length ? c.enqueue(chunks[i++]) : c.close()) }, { highWaterMark: 0 });
};
const drain = () => new WritableStream({ write() {} });

// The shell tools on the same data, as the reference the ratios in issue 5 are taken to.
const shell = (cmd, input) => median(() => {
  const run = spawnSync("bash", ["-c", `${cmd} > /dev/null`], { input, maxBuffer: 1 << 20 });
  if (run.status !== 0) throw new Error(`${cmd}: ${run.stderr}`);
});

async function median(fn) {
  return (await medianMBps(size, runs, fn)).toFixed(1);
}

console.log(`node ${process.version}, ${(size / 1e6).toFixed(0)} MB, gzip -6 ratio ${(size / gz.length).toFixed(2)}, median of ${runs}`);
console.log("codec     gzip-6  gunzip  sha256  hash+gzip");
for (const name of ["native", "portable"]) {
  const codec = await getCodec(name);
  const gzip = await median(() => source(plain).pipeThrough(codec.gzip()).pipeTo(drain()));
  const gunzip = await median(() => source(packed).pipeThrough(codec.gunzip()).pipeTo(drain()));
  const sha = await median(async () => {
    const h = codec.sha256();
    for (const c of plain) h.update(c);
    h.digest();
  });
  const both = await median(async () => {
    const h = codec.sha256();
    const hashing = new TransformStream({ transform(c, ctl) { h.update(c); ctl.enqueue(c); } });
    await source(plain).pipeThrough(hashing).pipeThrough(codec.gzip()).pipeTo(drain());
    h.digest();
  });
  console.log(`${name.padEnd(9)} ${gzip.padStart(6)}  ${gunzip.padStart(6)}  ${sha.padStart(6)}  ${both.padStart(9)}`);
}
const [sGzip, sGunzip, sSha, sBoth] = [
  await shell("gzip -6", data),
  await shell("gzip -dc", gz),
  await shell("sha256sum", data),
  await shell("tee >(sha256sum >/dev/null) | gzip -6", data).catch(() => "n/a"),
];
console.log(`${"shell".padEnd(9)} ${sGzip.padStart(6)}  ${sGunzip.padStart(6)}  ${sSha.padStart(6)}  ${sBoth.padStart(9)}`);
