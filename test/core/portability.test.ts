import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { VERSION, bytesSource, createBackupper } from "../../src/index.js";
import { fsAdapter } from "../../src/fs.js";
import { randomBytes, sha256 } from "../helpers/data.js";

const SRC = join(import.meta.dirname, "../../src");

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

describe("portability", () => {
  it("the core (src/*.ts, codec, retention, runtime-neutral sources) has no static node: or bun: import", async () => {
    const core = (await files(SRC)).filter((p) => {
      const rel = relative(SRC, p);
      return !rel.includes("/") || /^(codec|retention)\//.test(rel) || rel === "sources/memory.ts";
    });
    expect(core.length).toBeGreaterThan(10);
    const offenders: string[] = [];
    for (const p of core) {
      const text = await readFile(p, "utf8");
      if (/^\s*(import|export)\b[^;]*?from\s*["'](node|bun):/m.test(text) || /^\s*import\s*["'](node|bun):/m.test(text)) {
        offenders.push(relative(SRC, p));
      }
    }
    expect(offenders).toEqual([]);
  });

  it("the built runtime-neutral entries reach no node: module through their static imports", async () => {
    const dist = join(SRC, "../dist");
    const reach = async (file: string, seen: Set<string>): Promise<Set<string>> => {
      if (seen.has(file)) return seen;
      seen.add(file);
      const text = await readFile(file, "utf8");
      for (const m of text.matchAll(/(?:import|export)[^;]*?from\s*["'](\.[^"']+)["']/g)) await reach(join(file, "..", m[1]!), seen);
      return seen;
    };
    for (const entry of ["index.js", "index.cjs", "adapters/s3.js", "adapters/memory.js"]) {
      const files = [...(await reach(join(dist, entry), new Set()))];
      const offenders = [];
      for (const f of files) {
        const text = await readFile(f, "utf8");
        if (/(from\s*|require\()["']node:/.test(text)) offenders.push(relative(dist, f));
      }
      expect(offenders, entry).toEqual([]);
    }
  });

  it("VERSION matches package.json", async () => {
    const pkg = JSON.parse(await readFile(join(SRC, "../package.json"), "utf8"));
    expect(VERSION).toBe(pkg.version);
  });

  it("a backup restores with nothing but gunzip and sha256sum", async () => {
    const dir = await mkdtemp(join(tmpdir(), "backupper-gunzip-"));
    try {
      const data = randomBytes(3 << 20);
      const info = await createBackupper({ adapter: fsAdapter({ root: dir }), source: bytesSource(data, { name: "q" }) }).backup();
      const file = join(dir, info.key);
      const meta = JSON.parse(await readFile(`${file}.meta.json`, "utf8"));
      const restored = execFileSync("gunzip", ["-c", file], { maxBuffer: 64 << 20 });
      expect(sha256(restored)).toBe(sha256(data));
      expect(execFileSync("sh", ["-c", `gunzip -c "$1" | sha256sum`, "sh", file], { encoding: "utf8" }).split(" ")[0]).toBe(meta.checksum);
      expect(execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0]).toBe(meta.storedChecksum);
      expect(restored.byteLength).toBe(meta.size);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
