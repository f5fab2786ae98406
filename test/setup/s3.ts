/**
 * Vitest global setup: the S3 servers the tests run against.
 *
 * - Ceph RGW (real S3) via `scripts/ceph-rgw.sh`, started by the first test that asks for it
 *   (`rgwServer()`), so runs that never touch it do not pay its ~15 s start. Without
 *   `radosgw` installed this is a failure under `CI=true` and a loud warning elsewhere.
 * - `@20minutes/s3rver` in a child process, for machines without Ceph.
 * Both are stopped at teardown (RGW by its pid files, through the script).
 */

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import type { RgwState } from "./s3-context.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const SCRIPT = join(ROOT, "scripts/ceph-rgw.sh");
const S3RVER = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER", region: "us-east-1", bucket: "backupper-test" };

function onPath(command: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => dir !== "" && existsSync(join(dir, command)));
}

async function startS3rver(directory: string) {
  const child = spawn(
    process.execPath,
    ["--openssl-legacy-provider", join(HERE, "s3rver-child.mjs"), directory, S3RVER.bucket],
    { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] },
  );
  const line = await new Promise<string>((resolveLine, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", resolveLine);
    child.once("exit", (code) => reject(new Error(`s3rver exited with ${code} before listening`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  return {
    server: { ...S3RVER, endpoint: `http://127.0.0.1:${port}` },
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.stdin.end();
      }),
  };
}

function prepareRgw(): { state: RgwState; stop: () => Promise<void> } {
  if (!onPath("radosgw")) {
    const reason = "radosgw is not installed (apt-get install radosgw ceph-mon ceph-osd uuid-runtime)";
    if (process.env.CI === "true") throw new Error(`Ceph RGW is required in CI: ${reason}`);
    console.warn(`\n${"!".repeat(78)}\n!! S3 TESTS AGAINST CEPH RGW WILL NOT RUN: ${reason}\n${"!".repeat(78)}\n`);
    return { state: { unavailable: reason }, stop: async () => undefined };
  }
  const dir = mkdtempSync(join(tmpdir(), "backupper-rgw-"));
  return {
    state: { dir, script: SCRIPT, owner: process.pid },
    async stop() {
      // Only started if some test asked for it (see rgwServer in test/helpers/s3.ts).
      if (existsSync(join(dir, "lock"))) {
        for (let i = 0; i < 50 && !existsSync(join(dir, "starter.pid")); i++) await new Promise((r) => setTimeout(r, 100));
        spawnSync(SCRIPT, ["stop", dir], { stdio: "inherit", timeout: 60_000 });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export default async function setup(project: TestProject) {
  const rgw = prepareRgw();
  const s3rverDir = mkdtempSync(join(tmpdir(), "backupper-s3rver-"));
  const s3rver = await startS3rver(s3rverDir);
  project.provide("rgw", rgw.state);
  project.provide("s3rver", s3rver.server);
  return async () => {
    await Promise.all([rgw.stop(), s3rver.stop()]);
    rmSync(s3rverDir, { recursive: true, force: true });
  };
}
