/**
 * `npm run demo`, the README's first command: it must run on a fresh machine (no account, no
 * server) and tell what happened in the order it happened.
 */
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

describe("the demo", () => {
  it("backs up, prunes, lists, verifies and restores, printing each step after the one before", () => {
    const run = spawnSync(process.execPath, [join(ROOT, "examples/demo.mjs")], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split("\n");
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    const steps = [/^1\. created/, /^2\. backup 1:/, /^2\. backup 2:/, /^2\. backup 3:/, /retention removed/, /^3\. list/, /^4\. verify/, /^5\. restore/, /^6\. by hand: .* matches/, /^demo complete/];
    const positions = steps.map(at);
    expect(positions.every((p) => p >= 0), run.stdout).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});
