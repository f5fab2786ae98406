/**
 * Every document the repository cites is in the repository: a comment that says "see X.md" or
 * "DESIGN §2" about a file a reader of the published code cannot open is a dead end.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TEXT = /\.(ts|mts|cts|js|mjs|cjs|json|md|sh|yml|yaml|toml)$|^\.ci\/run$/;
/** Files generated elsewhere or written at run time, named by scripts that produce them. */
const SELF = "test/docs/references.test.ts";
const GENERATED = new Set(["/tmp/table.md", "bench/.data/quick-RESULTS.md"]);

function trackedTextFiles(): string[] {
  return execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" })
    .split("\n")
    .filter((f) => f !== "" && TEXT.test(f) && f !== "package-lock.json" && existsSync(join(ROOT, f)));
}

describe("document references", () => {
  it("cite only documents that exist in the repository", () => {
    const files = trackedTextFiles();
    expect(files.length).toBeGreaterThan(50);
    const dangling: string[] = [];
    for (const file of files) {
      if (file === SELF) continue;
      const text = readFileSync(join(ROOT, file), "utf8");
      for (const match of text.matchAll(/DESIGN(?:\.md)?\s*§|\.\.\/shared\b|shared\/reference/g)) {
        dangling.push(`${file}: "${match[0]}" (a document outside this repository)`);
      }
      for (const [ref] of text.matchAll(/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b/g)) {
        if (GENERATED.has(ref) || /^https?:/.test(ref)) continue;
        const candidates = [join(ROOT, ref), join(ROOT, dirname(file), ref)];
        if (!candidates.some((c) => existsSync(c))) dangling.push(`${file}: ${ref}`);
      }
    }
    expect(dangling).toEqual([]);
  });
});
