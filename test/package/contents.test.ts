/**
 * What `npm publish` would ship: the build, the README, the license and the changelog, and
 * nothing else (no tests, no bench data, no scripts). `npm pack --dry-run` reads the same
 * `files` list and the same always-included files as a publish.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

describe("the published package", () => {
  it("holds dist, README, LICENSE, CHANGELOG and package.json only", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" });
    const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    const outside = files.filter((f) => !f.startsWith("dist/"));
    expect(outside.sort()).toEqual(["CHANGELOG.md", "LICENSE", "README.md", "package.json"]);
    expect(files.filter((f) => f.startsWith("dist/")).length).toBeGreaterThan(10);
    expect(files.some((f) => /\.(test|spec)\.|\.map$|bench|\.data/.test(f))).toBe(false);
  });

  it("publishes without npm correcting package.json (a bin path with ./ is dropped from the published manifest)", () => {
    const run = spawnSync("npm", ["publish", "--dry-run", "--ignore-scripts", "--json"], { cwd: ROOT, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/auto-corrected|was invalid and removed|was cleaned/);
    const published = (JSON.parse(run.stdout) as Record<string, { files: Array<{ path: string }> }>).backupper!;
    expect(published.files.map((f) => f.path)).toContain("dist/cli.js");
  });

  it("names the license it ships, with its copyright line", () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")) as { license: string };
    const license = readFileSync(resolve(ROOT, "LICENSE"), "utf8");
    expect(pkg.license).toBe("MIT");
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} \S/);
  });
});
