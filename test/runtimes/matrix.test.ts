/**
 * The runtime matrix: the BUILT package (`dist/`, run `npm run build` first) through
 * backup → list → restore → verify against Ceph RGW on the machine's Node, a second Node (24),
 * Bun, Deno and workerd (with and without nodejs_compat), and a live SQLite database on each
 * runtime's driver. Each check is a child process (test/runtimes/children/) that prints one
 * JSON line. The runtimes and their binaries are in ./runtimes.ts; one whose binary is absent is
 * skipped with a line saying why, and fails under CI=true.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, expect } from "vitest";
import { rgwDescribe } from "../helpers/s3.js";
import { rgwBucket } from "./rgw-env.js";
import { CHILDREN, ROOT as root, runtimes, type Runtime } from "./runtimes.js";
import { itOn } from "./skip.js";

const MAIN = join(CHILDREN, "main.mjs");
const DENO_S3 = ["--allow-net=127.0.0.1", "--allow-env", "--allow-read", "--allow-write"];

/** The matrix's S3 check on `runtime`: main.mjs, or for workerd its Miniflare driver. */
function s3Check(runtime: Runtime): string[] {
  return runtime.caps.workers ? runtime.argv() : [...runtime.argv({ allow: DENO_S3 }), MAIN, "s3"];
}

/** The SQLite check, where the runtime has a driver. */
function sqliteCheck(runtime: Runtime): string[] {
  return [...runtime.argv({ allow: "all" }), MAIN, "sqlite"];
}

const RUNTIMES = runtimes("node", "node24", "bun", "deno", "workerd", "workerd-compat");

/** Runs a check on a fresh RGW bucket; resolves to the child's JSON line. */
async function runCheck([binary, ...args]: string[]): Promise<Record<string, unknown>> {
  const { env } = await rgwBucket();
  const { stdout } = await promisify(execFile)(binary!, args, { cwd: root, env, maxBuffer: 1 << 20 });
  const line = stdout.trim().split("\n").pop()!;
  console.log(`[runtime matrix] ${line}`);
  return JSON.parse(line) as Record<string, unknown>;
}

const describeRgw = rgwDescribe("runtime matrix");

describeRgw("runtime matrix on Ceph RGW (built package)", () => {
  beforeAll(() => {
    expect(existsSync(join(root, "dist/index.js")), "dist/ is missing: run `npm run build`").toBe(true);
  });

  for (const runtime of RUNTIMES) {
    const it = itOn(runtime);
    const codec = runtime.caps.nodeBuiltins ? "native" : "portable";
    it(`${runtime.name}: backup → list → restore → verify, byte-identical, ${codec} codec; restores zstd; encrypted with age; under a lease, drilled, metrics`, async () => {
      const result = await runCheck(s3Check(runtime));
      expect(String(result.runtime).startsWith(runtime.reports), `ran on ${String(result.runtime)}`).toBe(true);
      expect(result).toMatchObject({ codec, listed: true, identical: true, portableVerify: true, zstdRestored: true, encryptedIdentical: true });
      expect(result.encryptedKey).toMatch(/\.db\.gz\.age$/);
      expect(result).toMatchObject({ leasedListed: true, leaseObject: true, metricsSuccess: true, drill: { ok: true, key: true, checks: ["verify"] } });
      expect(result.restoredChecksum).toBe(result.backupChecksum);
      expect(result.verifiedChecksum).toBe(result.backupChecksum);
      expect(result.compressedSize).toBeLessThan(result.size as number);
    });

    const driver = runtime.caps.sqlite;
    if (driver) {
      it(`${runtime.name}: live SQLite (${driver}, WAL, writer running) → backup → restore → integrity_check`, async () => {
        const result = await runCheck(sqliteCheck(runtime));
        expect(String(result.runtime).startsWith(runtime.reports), `ran on ${String(result.runtime)}`).toBe(true);
        const db = result.sqlite as { driver: string; integrity: string; restoredRows: number; rowsBeforeBackup: number; rowsAtEnd: number };
        expect(db.driver).toBe(driver);
        expect(db.integrity).toBe("ok");
        // A gap-free prefix of what the writer committed: everything before the backup, nothing after the end.
        expect(db.restoredRows).toBeGreaterThanOrEqual(db.rowsBeforeBackup);
        expect(db.restoredRows).toBeLessThanOrEqual(db.rowsAtEnd);
      });
    }
  }
});
