/**
 * The JSR package (jsr.json) for Deno users: its exports are the npm subpaths (the CLI stays on
 * npm), its version is the npm version, and `deno publish --dry-run` passes — type check,
 * JSR's slow-types check of the public API, and the file list — without any network access.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect } from "vitest";
import { ROOT, runtime } from "../runtimes/runtimes.js";
import { itOn } from "../runtimes/skip.js";

const read = (file: string) => JSON.parse(readFileSync(join(ROOT, file), "utf8")) as Record<string, unknown>;
const deno = runtime("deno");

describe("jsr.json", () => {
  const jsr = read("jsr.json") as { name: string; version: string; exports: Record<string, string>; imports: Record<string, string> };
  const pkg = read("package.json") as { version: string; exports: Record<string, unknown>; dependencies: Record<string, string> };

  itOn(deno)("matches package.json: version, every subpath export, the runtime dependencies", () => {
    expect(jsr.version).toBe(pkg.version);
    expect(Object.keys(jsr.exports).sort()).toEqual(Object.keys(pkg.exports).filter((k) => k !== "./package.json").sort());
    for (const [name, range] of Object.entries(pkg.dependencies)) expect(jsr.imports[name]).toBe(`npm:${name}@${range}`);
  });

  itOn(deno)("passes deno publish --dry-run, slow-types check included", () => {
    const run = spawnSync(deno.binary, ["publish", "--dry-run", "--allow-dirty", "--config", "jsr.json"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output).toBe(0);
    expect(output).toMatch(/Checking for slow types/);
    expect(output).toMatch(/Dry run complete/);
    expect(output).not.toMatch(/error\[/);
  }, 150_000);
});
