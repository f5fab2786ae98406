/**
 * Review findings, through the built bin (`node dist/cli.js`) in a child process:
 * - a session token JSON escapes (a wrapped, pasted one with a newline; one with a quote or a
 *   backslash) printed in full in `--json` error output while stderr showed `***`.
 * Secret checks use `includes` and assert booleans, so a failure never prints a secret.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { escapeXml } from "../../src/adapters/s3/xml.js";
import { ledger } from "./ledger.js";

const log = ledger(import.meta.filename);
const CLI = resolve(__dirname, "../../dist/cli.js");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>, cwd: string): Promise<Result> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, cwd }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
    });
  });
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
