/**
 * Review findings, through the built bin (`node dist/cli.js`) in a child process:
 * - a session token JSON escapes (a wrapped, pasted one with a newline; one with a quote or a
 *   backslash) printed in full in `--json` error output while stderr showed `***`;
 * - `restore --allow-unverified` had no output cap, and the CLI could not set one.
 * Secret checks use `includes` and assert booleans, so a failure never prints a secret.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fsAdapter } from "../../src/fs.js";
import { escapeXml } from "../../src/adapters/s3/xml.js";
import { runBin, type BinResult } from "../helpers/bin.js";
import { putBunqueueBackup } from "../helpers/fixtures.js";
import { randomBytes, sha256 } from "../helpers/data.js";
import { ledger } from "./ledger.js";

const log = ledger(import.meta.filename);
const CLI = resolve(__dirname, "../../dist/cli.js");
const MiB = 1024 * 1024;

function cli(args: string[], env: Record<string, string>, cwd: string): Promise<BinResult> {
  return runBin(process.execPath, [CLI, ...args], { env, cwd });
}

let work: string;
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build; npm test does it)`);
  work = await mkdtemp(join(tmpdir(), "backupper-review-cli-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("--json error output never carries the session token", () => {
  const SECRET = 'SecReT"with\\quote+slash/0123456789abcdef';
  const TOKENS = {
    // fetch refuses the header, and its message quotes the whole value.
    "wrapped, with a newline and a quote": 'FwoGZXIvYXdzEPT//////////wEaDM"quoted\nIQoJb3JpZ2luX2VjEKz//////////wEaCXVzLWVhc3QtMSJH',
    // Sent; the server below echoes it back in its error document.
    "with a quote, a backslash, a tab and non-ASCII": 'IQoJb3JpZ2luX2VjE"quoted\\back\tslash-é-0123456789',
  };
  let server: Server;
  let endpoint: string;
  const received: string[] = [];

  beforeAll(async () => {
    // A server that echoes back what it got, as some S3-compatible servers' errors do.
    server = createServer((req, res) => {
      const token = String(req.headers["x-amz-security-token"] ?? "");
      received.push(token);
      res.writeHead(403, { "content-type": "application/xml" });
      res.end(`<Error><Code>AccessDenied</Code><Message>token ${escapeXml(token)} is not allowed</Message><RequestId>r1</RequestId></Error>`);
    });
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((closed) => server.close(() => closed())));

  /** The token, or any form of it a reader could turn back into it, is in `text`. */
  const leaks = (text: string, secret: string) =>
    [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret), escapeXml(secret), ...secret.split("\n")].some((f) => text.includes(f));

  it.each(Object.entries(TOKENS))("a token %s: stdout and stderr show *** only, exit 6", async (_label, token) => {
    const env = {
      S3_BUCKET: "leak-bucket",
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: "AKIAREVIEWTEST000000",
      S3_SECRET_ACCESS_KEY: SECRET,
      S3_SESSION_TOKEN: token,
      BACKUP_NAME: "queue",
    };
    const runs = [
      await cli(["list", "--json"], env, work),
      await cli(["verify", "backups/queue-2026-01-01T00-00-00-000Z-abcdefgh.db.gz", "--json"], env, work),
      await cli(["list"], env, work),
    ];
    for (const run of runs) {
      expect(run.code).toBe(6);
      for (const secret of [token, SECRET]) {
        expect(leaks(run.stdout, secret)).toBe(false);
        expect(leaks(run.stderr, secret)).toBe(false);
      }
      // The token was in the message, so the test is not vacuous: it is masked, not absent.
      expect(run.stderr.includes("***")).toBe(true);
    }
    const json = JSON.parse(runs[0]!.stdout) as { ok: boolean; error: { code: string; message: string } };
    expect(json).toMatchObject({ ok: false, error: { code: "ADAPTER" } });
    expect(json.error.message.includes("***")).toBe(true);
    log.record({
      kind: "review",
      scenario: `bin --json, S3_SESSION_TOKEN ${_label}, endpoint failing (403 echoing the token, or fetch refusing it)`,
      expected: "neither the token nor its JSON-escaped, URL-encoded or XML-escaped form on stdout or stderr",
      observed: `exit 6, ${runs.length} runs: *** in its place on both streams`,
      faults: runs.length,
      bytesLost: 0,
    });
  });

  it("the echoing server did receive the sendable token (so its echo was what had to be masked)", () => {
    expect(received.some((t) => t === TOKENS["with a quote, a backslash, a tab and non-ASCII"])).toBe(true);
  });
});

describe("restore --allow-unverified is capped; --max-restore-bytes / BACKUP_MAX_RESTORE_BYTES raise the cap", () => {
  const KEY = "backups/bunqueue-2024-06-01T00-00-00-000Z.db";
  let root: string;
  let env: Record<string, string>;

  async function planted(stored: Uint8Array | { data: Uint8Array }): Promise<void> {
    root = await mkdtemp(join(work, "store-"));
    env = { BACKUP_DIR: root, BACKUP_NAME: "bunqueue" };
    if (stored instanceof Uint8Array) await fsAdapter({ root }).put(KEY, stored);
    else await putBunqueueBackup(fsAdapter({ root }), KEY, stored.data, "no-meta-gzip");
  }

  it("a planted gzip bomb without metadata stops at the default cap: exit 4, target untouched, hint names the flag and variable", async () => {
    // 160 MiB of zeros in 160 gzip members of ~1 KiB.
    const member = gzipSync(new Uint8Array(MiB));
    const bomb = Buffer.concat(Array.from({ length: 160 }, () => member));
    await planted(bomb);
    const dir = await mkdtemp(join(work, "target-"));
    const to = join(dir, "queue.db");
    await writeFile(to, "precious");

    const human = await cli(["restore", KEY, "--to", to, "-f", "--allow-unverified"], env, work);
    expect(human.code, human.stderr).toBe(4);
    const cap = 100 * bomb.byteLength + 64 * MiB;
    expect(human.stderr).toContain(`exceeds the ${cap}-byte cap`);
    expect(human.stderr).toContain("--max-restore-bytes");
    expect(human.stderr).toContain("BACKUP_MAX_RESTORE_BYTES");
    const json = await cli(["restore", KEY, "--to", to, "-f", "--allow-unverified", "--json"], env, work);
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: "CORRUPT_DATA", exitCode: 4 } });
    expect(await readFile(to, "utf8")).toBe("precious");
    expect(await readdir(dir)).toEqual(["queue.db"]);
    log.record({
      kind: "review",
      scenario: "bin restore --allow-unverified of a planted metadata-less gzip bomb (160 KiB → 160 MiB), --dir",
      expected: "exit 4 at the default cap, target untouched, hint naming --max-restore-bytes and BACKUP_MAX_RESTORE_BYTES",
      observed: `exit 4 at ${cap} bytes; target byte-identical, no temp file; hint shown`,
      faults: 1,
      bytesLost: 0,
    });
  });

  it("a genuine backup above the default cap restores with --max-restore-bytes or BACKUP_MAX_RESTORE_BYTES", async () => {
    // 96 MiB, one 4 KiB page in 1024 holding data: gzip ~500:1, above the default's 100:1.
    const data = new Uint8Array(96 * MiB);
    const page = randomBytes(4096);
    for (let at = 0; at < data.length; at += 1024 * 4096) data.set(page, at);
    await planted({ data });
    const to = join(await mkdtemp(join(work, "target-")), "queue.db");

    expect((await cli(["restore", KEY, "--to", to, "--allow-unverified"], env, work)).code).toBe(4);
    expect(existsSync(to)).toBe(false);
    for (const [args, extra] of [
      [["--max-restore-bytes", "96MiB"], {}],
      [[], { BACKUP_MAX_RESTORE_BYTES: "100663296" }],
      [["--max-restore-bytes", "1GiB"], { BACKUP_MAX_RESTORE_BYTES: "1K" }],
    ] as const) {
      const result = await cli(["restore", KEY, "--to", to, "-f", "--allow-unverified", "--json", ...args], { ...env, ...extra }, work);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ verified: false, size: data.byteLength, checksum: sha256(data) });
      expect(createHash("sha256").update(await readFile(to)).digest("hex")).toBe(sha256(data));
    }
    const below = await cli(["restore", KEY, "--to", to, "-f", "--allow-unverified", "--max-restore-bytes", `${data.byteLength - 1}`], env, work);
    expect(below.code).toBe(4);
    expect(sha256(await readFile(to))).toBe(sha256(data));
  });

  it("bad values exit 2 naming the variable or the flag, before touching storage", async () => {
    await planted(gzipSync(new Uint8Array(10)));
    for (const [args, extra, from] of [
      [[], { BACKUP_MAX_RESTORE_BYTES: "lots" }, "BACKUP_MAX_RESTORE_BYTES"],
      [[], { BACKUP_MAX_RESTORE_BYTES: "10GB" }, "BACKUP_MAX_RESTORE_BYTES"],
      [["--max-restore-bytes", "-"], {}, "--max-restore-bytes"],
      [["--max-restore-bytes", "2 parsecs"], { BACKUP_MAX_RESTORE_BYTES: "1GiB" }, "--max-restore-bytes"],
    ] as const) {
      const result = await cli(["restore", KEY, "--to", join(work, "never.db"), "--allow-unverified", ...args], { ...env, ...extra }, work);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^backupper: ${from}: must be bytes or a size`));
      expect(result.stdout).toBe("");
    }
    expect(existsSync(join(work, "never.db"))).toBe(false);
    expect((await cli(["verify", KEY, "--max-restore-bytes", "1GiB"], env, work)).code).toBe(2);
  });
});
