// One measured case, run in its own process so its peak RSS is its own:
//   node bench/case.mjs '<json {case, db, work, level?, workers?}>'
// Prints one JSON line: { ms, bytes, maxRssKiB }. `bytes` is the original (uncompressed) size.
// S3 cases read S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip, gzipSync } from "node:zlib";
import { peerCases } from "./peers.mjs";

const spec = JSON.parse(process.argv[2]);
const { db, work } = spec;
const size = statSync(db).size;
const env = process.env;
mkdirSync(work, { recursive: true });

/** Runs `script` in bash under GNU time: the shell pipeline's own peak RSS (its largest process). */
function shell(script, scriptEnv = env) {
  const start = performance.now();
  const run = spawnSync("/usr/bin/time", ["-f", "%M", "bash", "-o", "pipefail", "-c", script], { encoding: "utf8", env: scriptEnv });
  const ms = performance.now() - start;
  if (run.status !== 0) throw new Error(`${script}: ${run.stderr}`);
  const lines = run.stderr.trim().split("\n");
  return { ms, bytes: size, maxRssKiB: Number(lines[lines.length - 1]) };
}

async function timed(fn) {
  const start = performance.now();
  await fn();
  return { ms: performance.now() - start, bytes: size, maxRssKiB: process.resourceUsage().maxRSS };
}

const s3 = () => ({ endpoint: env.S3_ENDPOINT, region: env.S3_REGION, bucket: env.S3_BUCKET, accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY });

async function backupper(adapterKind, options = {}) {
  const { createBackupper } = await import("../dist/index.js");
  const { fsAdapter, fileSource } = await import("../dist/fs.js");
  let adapter;
  if (adapterKind === "fs") adapter = fsAdapter({ root: `${work}/fs` });
  else {
    const { s3Adapter } = await import("../dist/adapters/s3.js");
    adapter = s3Adapter({ ...s3(), forcePathStyle: true, ...spec.s3Options });
  }
  // One prefix per setting, so restores read the default settings' backup.
  const prefix = `bench-${adapterKind}-l${options.compressionLevel ?? 6}-w${options.compressionWorkers ?? 1}${spec.s3Options ? "-lean" : ""}/`;
  return createBackupper({ adapter, source: fileSource(db, { name: "queue" }), retention: 1, prefix, ...options });
}

const cases = {
  "shell-backup": () => shell(`tee >(sha256sum > '${work}/shell.sha') < '${db}' | gzip -6 > '${work}/shell.gz'`),
  "pigz-backup": () => shell(`tee >(sha256sum > '${work}/pigz.sha') < '${db}' | pigz -6 -p 2 > '${work}/pigz.gz'`),
  "shell-restore": () => shell(`gzip -dc '${work}/shell.gz' | sha256sum > /dev/null`),
  "pigz-restore": () => shell(`pigz -dc '${work}/shell.gz' | sha256sum > /dev/null`),

  async "backupper-backup"() {
    const b = await backupper(spec.adapter, { compressionLevel: spec.level ?? 6, compressionWorkers: spec.workers ?? 1 });
    return timed(() => b.backup());
  },
  async "backupper-verify"() {
    const b = await backupper(spec.adapter);
    const [newest] = await b.list();
    if (!newest) throw new Error("no backup to verify: run backupper-backup first");
    return timed(() => b.verify(newest.key));
  },
  async "backupper-restore"() {
    const b = await backupper(spec.adapter);
    const [newest] = await b.list();
    if (!newest) throw new Error("no backup to restore: run backupper-backup first");
    return timed(() => b.restore(newest.key, { to: `${work}/restored.db`, force: true }));
  },

  // How it is done today with the AWS SDK v3: a Node stream through zlib into lib-storage's Upload.
  async "aws-sdk-backup"() {
    const { S3Client } = await import("@aws-sdk/client-s3");
    const { Upload } = await import("@aws-sdk/lib-storage");
    const c = s3();
    const client = new S3Client({ region: c.region, endpoint: c.endpoint, forcePathStyle: true, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } });
    return timed(async () => {
      const hash = createHash("sha256");
      const file = createReadStream(db);
      file.on("data", (chunk) => hash.update(chunk));
      const body = file.pipe(createGzip({ level: 6 }));
      await new Upload({ client, params: { Bucket: c.bucket, Key: "bench-aws/queue.db.gz", Body: body, ContentType: "application/gzip" } }).done();
      hash.digest("hex");
    });
  },
  async "aws-sdk-restore"() {
    const { S3Client, GetObjectCommand } = await import("@aws-sdk/client-s3");
    const c = s3();
    const client = new S3Client({ region: c.region, endpoint: c.endpoint, forcePathStyle: true, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } });
    return timed(async () => {
      const got = await client.send(new GetObjectCommand({ Bucket: c.bucket, Key: "bench-aws/queue.db.gz" }));
      const hash = createHash("sha256");
      await pipeline(got.Body, createGunzip(), async function* (source) {
        for await (const chunk of source) hash.update(chunk);
      });
      hash.digest("hex");
    });
  },

  // The seed's approach: the whole file in memory, gzipped in one call, one PUT.
  async "seed-backup"() {
    const { AwsClient } = await import("aws4fetch");
    const c = s3();
    const client = new AwsClient({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, service: "s3", region: c.region });
    return timed(async () => {
      const data = await readFile(db);
      createHash("sha256").update(data).digest("hex");
      const body = gzipSync(data, { level: 6 });
      const res = await client.fetch(`${c.endpoint}/${c.bucket}/bench-seed/queue.db.gz`, { method: "PUT", body });
      if (!res.ok) throw new Error(`PUT ${res.status}: ${await res.text()}`);
    });
  },
};

Object.assign(cases, peerCases({ spec, db, work, shell }));
const run = cases[spec.case];
if (!run) throw new Error(`unknown case ${spec.case}`);
try {
  console.log(JSON.stringify(await run()));
} catch (error) {
  console.log(JSON.stringify({ error: String(error?.message ?? error).split("\n")[0].slice(0, 200) }));
}
