// Run by test/adapters/age-interop.test.ts on the machine's Node (gzip), Node 24 and Deno (zstd,
// which Node 20 cannot write) and Bun (gzip):
//   <node> --import tsx test/adapters/age-s3-child.ts <source file> <compression> <recipient>
// with S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY set. Backs the
// file up, encrypted to the recipient, through the S3 adapter; prints one JSON line with the key,
// the codec, the runtime and who could write the age header here (node:crypto where it has the
// payload cipher and X25519, as src/pipeline/encryption/age.ts decides, else age-encryption), so
// the test can fetch the object with `aws s3 cp` and undo it with the real tools.
import * as nodeCrypto from "node:crypto";
import { s3Adapter } from "../../src/adapters/s3.js";
import { x25519HeaderOn } from "../../src/pipeline/encryption/age-header.js";
import { nativePayloadOn } from "../../src/pipeline/encryption/age-payload.js";
import { fileSource } from "../../src/fs.js";
import { createBackupper } from "../../src/index.js";

const [file, compression, recipient] = process.argv.slice(2) as [string, "gzip" | "zstd", string];
const env = (name: string): string => process.env[name] ?? (() => { throw new Error(`${name} is not set`); })();
const adapter = s3Adapter({
  endpoint: env("S3_ENDPOINT"),
  region: env("S3_REGION"),
  bucket: env("S3_BUCKET"),
  accessKeyId: env("S3_ACCESS_KEY_ID"),
  secretAccessKey: env("S3_SECRET_ACCESS_KEY"),
  forcePathStyle: true,
});
const info = await createBackupper({ adapter, source: fileSource(file, { name: `cp-${compression}` }), compression, encryption: { recipients: [recipient] } }).backup();
const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
const runtime = g.Bun ? `bun ${g.Bun.version}` : g.Deno ? `deno ${g.Deno.version.deno}` : `node ${process.version}`;
const header = nativePayloadOn(nodeCrypto) && x25519HeaderOn(nodeCrypto) ? "node:crypto" : "age-encryption";
console.log(JSON.stringify({ key: info.key, codec: info.codec, runtime, header }));
