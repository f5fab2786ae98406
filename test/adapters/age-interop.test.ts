/**
 * Encrypted backups against the real `age` CLI (Debian's age 1.1.1, installed by
 * scripts/install-test-servers.sh) and a real S3 (Ceph RGW): the hand restore of docs/FORMAT.md
 * §5 (`age -d -i key.txt x.db.gz.age | gunzip`) gives the source's bytes, a file the CLI
 * encrypted restores through the library, and round trips hold on RGW. On RGW the object is also
 * fetched with Debian's `aws s3 cp` (by its absolute path: a pyenv shim may shadow it on PATH) and
 * undone with `age -d` then `gunzip` / `zstd -d`, zstd written on Node 24.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fsAdapter } from "../../src/fs.js";
import { bytesSource, bytesTarget, createBackupper } from "../../src/index.js";
import { encodeMeta } from "../../src/format/meta.js";
import { randomBytes, sha256 } from "../helpers/data.js";
import { readObject } from "../helpers/fixtures.js";
import { rgwDescribe, s3Env, s3TestAdapter, type S3TestAdapter } from "../helpers/s3.js";
import { ROOT, runtimes } from "../runtimes/runtimes.js";
import { itOn } from "../runtimes/skip.js";

let dir: string;
let keyFile: string;
let identity: string;
let recipient: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "backupper-age-cli-"));
  keyFile = join(dir, "key.txt");
  execFileSync("age-keygen", ["-o", keyFile], { stdio: "pipe" });
  const text = await readFile(keyFile, "utf8");
  identity = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(text)![0];
  recipient = execFileSync("age-keygen", ["-y", keyFile], { encoding: "utf8" }).trim();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const ageDecrypt = (ciphertext: Uint8Array): Buffer => execFileSync("age", ["-d", "-i", keyFile], { input: ciphertext, maxBuffer: 1 << 28 });

describe("the age CLI", () => {
  it("decrypts a backup made to its recipient on the fs adapter, and gunzip gives the source", async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const root = join(dir, "fs");
    const b = createBackupper({ adapter: fsAdapter({ root }), source: bytesSource(data, { name: "db" }), encryption: { recipients: [recipient] } });
    const info = await b.backup();
    const plain = gunzipSync(ageDecrypt(await readFile(join(root, info.key))));
    expect(sha256(plain)).toBe(sha256(data));
  });

  it("encrypts a file that the library restores, with the identity and with a passphrase", async () => {
    const data = randomBytes(200_000);
    const root = join(dir, "cli-made");
    const adapter = fsAdapter({ root });
    const key = "backups/db-2026-11-26T12-00-00-000Z-abcd1234.db.gz.age";
    const ciphertext = execFileSync("age", ["-r", recipient], { input: gzipSync(data) });
    await adapter.put(key, ciphertext);
    await adapter.put(`${key}.meta.json`, encodeMeta({ timestamp: "2026-11-26T12:00:00.000Z", version: "cli", size: data.byteLength, compressedSize: ciphertext.byteLength, encryption: "age", compression: "gzip", compressed: true }));
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array(0), { name: "db" }), encryption: { identities: [identity] } });
    const to = bytesTarget();
    await expect(b.restore(key, { to })).resolves.toMatchObject({ size: data.byteLength, checksum: sha256(data) });
    expect(sha256(to.bytes!)).toBe(sha256(data));
  });
});

const describeRgw = rgwDescribe("age on Ceph RGW");

describeRgw("encrypted backups on Ceph RGW", () => {
  let t: S3TestAdapter;
  beforeAll(async () => {
    t = await s3TestAdapter("rgw");
  });
  afterAll(() => t?.cleanup());

  it.each(["gzip", "none"] as const)("%s: round trip with a recipient, and the object from the adapter's own get decrypts with `age -d`", async (compression) => {
    const data = randomBytes(6 * 1024 * 1024 + 3, compression === "gzip" ? 11 : 12);
    const b = createBackupper({ adapter: t.adapter, name: `db-${compression}`, source: bytesSource(data, { name: "db" }), compression, encryption: { recipients: [recipient] } });
    const info = await b.backup();
    expect(new TextDecoder().decode(await readObject(t.adapter, info.metaKey))).not.toContain(sha256(data));
    const decrypted = ageDecrypt(await readObject(t.adapter, info.key));
    expect(sha256(compression === "gzip" ? gunzipSync(decrypted) : decrypted)).toBe(sha256(data));
    const reader = createBackupper({ adapter: t.adapter, name: `db-${compression}`, source: bytesSource(data, { name: "db" }), encryption: { identities: [identity] } });
    const to = bytesTarget();
    await reader.restore(info.key, { to });
    expect(sha256(to.bytes!)).toBe(sha256(data));
  });

  it("round trip with a passphrase", async () => {
    const data = randomBytes(1024 * 1024);
    const b = createBackupper({ adapter: t.adapter, name: "db-pass", source: bytesSource(data, { name: "db" }), encryption: { passphrase: "correct horse battery" } });
    const info = await b.backup();
    const to = bytesTarget();
    await b.restore(info.key, { to });
    expect(sha256(to.bytes!)).toBe(sha256(data));
  }, 60_000);

  const AWS = "/usr/bin/aws";
  const CHILD = join(ROOT, "test/adapters/age-s3-child.ts");
  const [node, node24, deno, bun] = runtimes("node", "node24", "deno", "bun");
  const undo = { gzip: ["gunzip", "-c"], zstd: ["zstd", "-d", "-c"] } as const;

  // Node and Deno write the header on node:crypto, Bun (no ChaCha20-Poly1305 there) with age-encryption.
  for (const [compression, runtime] of [["gzip", node!], ["zstd", node24!], ["zstd", deno!], ["gzip", bun!]] as const) {
    itOn(runtime)(`${compression} on ${runtime.name}: fetched with \`aws s3 cp\`, \`age -d -i\` then \`${undo[compression][0]}\` give the source's SHA-256`, async () => {
      const source = join(dir, `cp-${compression}-${runtime.id}.db`);
      const data = Buffer.concat([Buffer.from("INSERT INTO jobs VALUES ('email', 'queued');\n".repeat(60_000)), randomBytes(1024 * 1024 + 5, 21)]);
      await writeFile(source, data);
      const server = t.server;
      const env = {
        PATH: process.env.PATH,
        ...s3Env(server, t.bucket),
      };
      const [binary, ...args] = [...runtime.argv({ ts: true, allow: ["--allow-env", "--allow-net", "--allow-read", "--allow-sys"] }), CHILD, source, compression, recipient];
      const { stdout } = await promisify(execFile)(binary!, args, { cwd: ROOT, env });
      const made = JSON.parse(stdout.trim().split("\n").pop()!) as { key: string; codec: string; runtime: string; header: string };
      expect(made.key).toMatch(compression === "gzip" ? /\.db\.gz\.age$/ : /\.db\.zst\.age$/);
      expect(made.runtime.startsWith(runtime.reports)).toBe(true);
      expect(made).toMatchObject({ codec: "native", header: runtime.id === "bun" ? "age-encryption" : "node:crypto" });

      const fetched = join(dir, `cp-${compression}-${runtime.id}.age`);
      execFileSync(AWS, ["s3", "cp", `s3://${t.bucket}/${made.key}`, fetched, "--endpoint-url", server.endpoint, "--region", server.region, "--no-progress"], {
        env: { PATH: process.env.PATH, HOME: dir, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_EC2_METADATA_DISABLED: "true" },
        stdio: "pipe",
      });
      const [tool, ...flags] = undo[compression];
      const plain = execFileSync(tool, flags, { input: execFileSync("age", ["-d", "-i", keyFile, fetched], { maxBuffer: 1 << 28 }), maxBuffer: 1 << 28 });
      expect(sha256(plain)).toBe(sha256(data));
    }, 120_000);
  }
});
