/**
 * sqliteSource on the other runtimes' own drivers: a second Node (24) and Deno (node:sqlite), Bun
 * (bun:sqlite), from the runtime table (test/runtimes/runtimes.ts). On each, a writer of that
 * runtime commits rows while a script of that runtime (test/runtimes/children/sqlite-source.ts)
 * snapshots the database through its handle and through the source's own connection and restores
 * bad files; this test, on the machine's Node, checks the results. A runtime whose binary is
 * absent is skipped with a line saying why, and fails under CI=true.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect } from "vitest";
import { expectConsistentPrefix, startWriter, violatingDatabase } from "../fixtures/sqlite-live.js";
import { CHILDREN, ROOT as root, runtime } from "../runtimes/runtimes.js";
import { itOn } from "../runtimes/skip.js";

const SCRIPT = join(CHILDREN, "sqlite-source.ts");

const RUNTIMES = [
  { name: "Node 24 with node:sqlite", runtime: runtime("node24") },
  { name: "Bun with bun:sqlite", runtime: runtime("bun") },
  { name: "Deno with node:sqlite", runtime: runtime("deno") },
];

interface RuntimeReport {
  runtime: string;
  handleSize: number;
  ownSize: number;
  badHeader: { code: string; untouched: boolean };
  corrupt: { code: string; untouched: boolean };
  checkFailure: { on: string; code: string; message: string };
  temps: string[];
  leftovers: string[];
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "backupper-sqlite-rt-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("sqliteSource on other runtimes", () => {
  for (const { name, runtime: rt } of RUNTIMES) {
    const driver = rt.caps.sqlite!;
    itOn(rt)(`${name}: live snapshots are consistent prefixes, a snapshot failing quick_check fails on its stream, bad restores are refused`, async () => {
      const live = join(dir, "queue.db");
      const out = join(dir, "out");
      mkdirSync(out);
      violatingDatabase(join(out, "violating.db"));
      const writer = await startWriter(rt.argv({ allow: "all" }), driver, live);
      let stdout: string;
      let final: number;
      try {
        const [binary, ...args] = rt.argv({ ts: true, allow: "all" });
        ({ stdout } = await promisify(execFile)(binary, [...args, SCRIPT, driver, live, out], { cwd: root }));
      } finally {
        final = await writer.stop();
      }
      const report = JSON.parse(stdout.trim().split("\n").pop()!) as RuntimeReport;
      // The runtime asked for, never the machine's Node standing in for it.
      expect(report.runtime.startsWith(rt.reports.trim()), `ran on ${report.runtime}`).toBe(true);

      for (const [file, size] of [["handle.db", report.handleSize], ["own.db", report.ownSize]] as const) {
        const n = expectConsistentPrefix(join(out, file));
        expect(final, `the writer kept committing after the ${file} snapshot`).toBeGreaterThan(n);
        expect(size).toBe(readFileSync(join(out, file)).byteLength);
      }
      expect(report.badHeader).toEqual({ code: "CORRUPT_DATA", untouched: true });
      expect(report.corrupt).toEqual({ code: "CORRUPT_DATA", untouched: true });
      // The runtime's own driver checked the snapshot on a worker thread, while it streamed.
      expect(report.checkFailure).toEqual({ on: "stream", code: "SOURCE", message: expect.stringContaining("fails PRAGMA quick_check: NULL value in t.v") });
      expect(report.temps).toEqual([]);
      expect(report.leftovers).toEqual([]);
    });
  }
});
