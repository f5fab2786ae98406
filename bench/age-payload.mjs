// age's payload alone: age-encryption's own stream against the native one (node:crypto's
// ChaCha20-Poly1305, src/pipeline/encryption/age-payload.ts), MB/s of plaintext, median of RUNS,
// fed in 64 KiB chunks as the codec hands them on (bench/PROFILE.md, "Encryption").
//   node --import tsx bench/age-payload.mjs [megabytes=64] [runs=5]
//   deno run -A --sloppy-imports bench/age-payload.mjs
import { Decrypter, Encrypter, generateIdentity, identityToRecipient } from "age-encryption";
import * as nodeCrypto from "node:crypto";
import { nativePayloadOn } from "../src/pipeline/encryption/age-payload.ts";
import { medianMBps } from "./median.mjs";

const args = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2);
const size = Number(args[0] ?? 64) * 1024 * 1024;
const runs = Number(args[1] ?? 5);
const CHUNK = 64 * 1024;

const native = nativePayloadOn(nodeCrypto);
const identity = await generateIdentity();
const recipient = await identityToRecipient(identity);
const plain = new Uint8Array(size);
for (let i = 0; i < size; i += CHUNK) crypto.getRandomValues(plain.subarray(i, i + Math.min(CHUNK, 65536)));

const source = (bytes) => {
  let offset = 0;
  return new ReadableStream({ pull: (c) => (offset >= bytes.length ? c.close() : (c.enqueue(bytes.slice(offset, offset + CHUNK)), (offset += CHUNK))) }, { highWaterMark: 0 });
};
const drain = async (stream) => {
  const reader = stream.getReader();
  while (!(await reader.read()).done);
};
const median = async (fn) => (await medianMBps(size, runs, fn)).toFixed(0);
const encrypter = () => {
  const e = new Encrypter();
  e.addRecipient(recipient);
  return e;
};
const decrypter = () => {
  const d = new Decrypter();
  d.addIdentity(identity);
  return d;
};

const sealed = new Uint8Array(await new Response(await encrypter().encrypt(source(plain))).arrayBuffer());
const row = {
  runtime: globalThis.Deno ? `deno ${globalThis.Deno.version.deno}` : process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`,
  "age-encryption encrypt": await median(async () => drain(await encrypter().encrypt(source(plain)))),
  "age-encryption decrypt": await median(async () => drain(await decrypter().decrypt(source(sealed)))),
};
if (native) {
  row["native encrypt"] = await median(() => drain(source(plain).pipeThrough(native.seal(new Uint8Array(16), new Uint8Array(64)))));
  row["native decrypt"] = await median(() => drain(source(sealed).pipeThrough(native.open((header) => decrypter().decryptHeader(header)))));
} else row.native = "not on this runtime";
console.log(JSON.stringify(row));
