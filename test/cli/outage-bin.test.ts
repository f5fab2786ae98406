/**
 * The built bin through a storage outage, as a user sees it: `backupper now` uploading to Ceph RGW
 * through the TCP fault proxy, which refuses connections for 10 seconds in the middle of the
 * upload. On a terminal (a real pseudo-terminal, test/fixtures/pty-run.py) the retry line shows and
 * the backup exits 0 once the storage is back; with `--json` each retry is one JSON line on stderr.
 */

import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { s3Adapter } from "../../src/adapters/s3.js";
import { runBin, type BinResult } from "../helpers/bin.js";
import { faultProxy, type FaultProxy } from "../helpers/fault-proxy.js";
import { adapterOptions, createBucket, rgwDescribe, s3Env, s3Server, type S3TestServer } from "../helpers/s3.js";

const here = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(here, "../../dist/cli.js");
const PTY = resolve(here, "../fixtures/pty-run.py");
const MiB = 1024 * 1024;
const describeRgw = rgwDescribe("bin through an outage");

describeRgw("backupper now through a storage outage (built bin, Ceph RGW, fault proxy)", () => {
  let server: S3TestServer;
  let proxy: FaultProxy;
  let work: string;
  let source: string;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build; npm test does it)`);
    server = await s3Server("rgw");
    work = await mkdtemp(join(tmpdir(), "backupper-outage-bin-"));
    source = join(work, "jobs.bin");
    await writeFile(source, randomBytes(36 * MiB));
  });
  afterEach(async () => {
    await proxy?.close();
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function env(): Promise<{ vars: Record<string, string>; bucket: string }> {
    const bucket = await createBucket(server);
    proxy = await faultProxy(server.endpoint);
    const vars = {
      S3_BACKUP_ENABLED: "1",
      ...s3Env(server, bucket, proxy.endpoint),
      BACKUP_SOURCE: source,
      BACKUP_COMPRESSION: "none",
    };
    return { vars, bucket };
  }

  function outage(ms: number): Promise<void> {
    return proxy.after("request", 12 * MiB).then(async () => {
      await proxy.refuse();
      await new Promise((r) => setTimeout(r, ms));
      await proxy.pass();
    });
  }

  async function listed(bucket: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const e of s3Adapter(adapterOptions(server, bucket)).list("backups/")) keys.push(e.key);
    return keys;
  }

  it("on a terminal prints the retry line while the storage is down, and exits 0 once it is back", async () => {
    const { vars, bucket } = await env();
    const down = outage(10_000);
    const result = await runBin("python3", [PTY, process.execPath, CLI, "now"], { env: vars });
    await down;
    const screen = result.stdout;
    expect(result.code, screen).toBe(0);
    const port = new URL(proxy.endpoint).port;
    expect(screen).toMatch(new RegExp(`\\r\\x1b\\[Kstorage unreachable \\(ECONNREFUSED 127\\.0\\.0\\.1:${port}\\), retrying in \\d+(\\.\\d)? s …\\r?\\n`));
    expect(screen).toContain("Backed up");
    expect(screen).not.toContain(server.secretAccessKey);
    const keys = await listed(bucket);
    expect(keys.filter((k) => k.endsWith(".meta.json"))).toHaveLength(1);
  });

  /** Runs the bin against a storage that refuses every connection, and sends SIGTERM at its first retry line. */
  async function terminatedWhileWaiting(args: string[]): Promise<BinResult & { afterSignalMs: number; bucket: string }> {
    const { vars, bucket } = await env();
    await proxy.refuse();
    let signalled = 0;
    const result = await runBin(process.execPath, [CLI, ...args], {
      env: vars,
      onStderr(text, child) {
        if (signalled || !/retrying in/.test(text)) return;
        signalled = Date.now();
        child.kill("SIGTERM");
      },
    });
    const afterSignalMs = Date.now() - signalled;
    expect(signalled, result.stderr).toBeGreaterThan(0);
    await proxy.pass();
    return { ...result, afterSignalMs, bucket };
  }

  it("now: SIGTERM while it waits for the storage ends the wait at once (exit 130), leaving nothing listed", async () => {
    const result = await terminatedWhileWaiting(["now"]);
    expect(result.code, result.stderr).toBe(130);
    expect(result.afterSignalMs).toBeLessThan(3_000);
    expect(result.stderr).toMatch(/aborted/);
    expect(await listed(result.bucket)).toEqual([]);
  });

  it("run: the first SIGTERM aborts a backup that waits for the storage, and exits 0", async () => {
    const result = await terminatedWhileWaiting(["run", "--initial-delay", "0", "--interval", "1h"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.afterSignalMs).toBeLessThan(3_000);
    expect(result.stdout).toContain("aborting the running backup: it is waiting for the storage to come back");
    expect(result.stderr).toMatch(/^\S+ storage unreachable \(ECONNREFUSED 127\.0\.0\.1:\d+\), retrying in /m);
    expect(await listed(result.bucket)).toEqual([]);
  });

  it("with --json writes each retry as one JSON line on stderr, and the result on stdout", async () => {
    const { vars } = await env();
    const down = outage(3_000);
    const result = await runBin(process.execPath, [CLI, "now", "--json"], { env: vars });
    await down;
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.trim().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.every((e) => e.event === "retrying" && typeof e.attempt === "number" && typeof e.waitMs === "number" && typeof e.operation === "string")).toBe(true);
    expect(events.some((e) => e.code === "ECONNREFUSED")).toBe(true);
    expect((JSON.parse(result.stdout) as { backup: { key: string } }).backup.key).toMatch(/^backups\/jobs-/);
  });
});
