/**
 * The layers of src/: every import points down (cli → backupper → operations → pipeline, storage,
 * format → codec, util, errors, types), or stays inside its own directory. A module that needs
 * something from a layer above it is in the wrong place. The layers the core is made of also
 * import no `node:` or `bun:` module statically (test/core/portability.test.ts checks the rest).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** Lowest first; a module is in the first layer one of whose patterns matches its path under src/. */
const LAYERS: Array<[name: string, pattern: RegExp]> = [
  ["contracts", /^(types|errors|version)\.ts$/],
  ["util", /^util\//],
  ["fsutil", /^fsutil\//],
  ["events, scheduler", /^(events|scheduler)\.ts$/],
  ["codec", /^codec\//],
  ["format", /^format\//],
  ["storage", /^storage\//],
  ["retention", /^retention\//],
  ["pipeline", /^pipeline\//],
  ["lease, notify", /^(lease|notify)\//],
  ["adapters", /^adapters\//],
  ["sources", /^sources\//],
  ["catalog, options", /^(catalog|options)\.ts$/],
  ["context", /^context\.ts$/],
  ["operations", /^operations\//],
  ["status", /^status\.ts$/],
  ["drills, metrics", /^(drills\.ts|metrics\/)/],
  ["backupper", /^backupper\.ts$/],
  ["entries", /^(index|fs|sqlite|testing)\.ts$/],
  ["cli", /^cli\//],
];

/** The layers of the core, which runs on every runtime. */
const PORTABLE = ["util", "codec", "format", "storage", "retention", "pipeline", "lease, notify", "catalog, options", "context", "operations", "status", "drills, metrics"];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

function layerOf(file: string): number {
  const rel = relative(SRC, file);
  const index = LAYERS.findIndex(([, pattern]) => pattern.test(rel));
  if (index < 0) throw new Error(`${rel} is in no layer: add it to LAYERS`);
  return index;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g)];
  return specifiers.map((m) => resolve(dirname(file), (m[1] ?? m[2])!).replace(/\.js$/, ".ts"));
}

describe("layers of src/", () => {
  const files = sources(SRC);

  it("every import points to a lower layer or within its own directory", () => {
    const group = (file: string) => relative(SRC, file).split("/")[0];
    const name = (file: string) => `${relative(SRC, file)} (${LAYERS[layerOf(file)]![0]})`;
    const upward = files.flatMap((file) =>
      importsOf(file)
        .filter((target) => group(target) !== group(file) && layerOf(target) >= layerOf(file))
        .map((target) => `${name(file)} → ${name(target)}`),
    );
    expect(upward).toEqual([]);
  });

  it("the core's layers import no node: or bun: module statically", () => {
    const offenders = files
      .filter((f) => PORTABLE.includes(LAYERS[layerOf(f)]![0]))
      .filter((f) => /^\s*(?:import|export)\b[^;]*?from\s*["'](?:node|bun):|^\s*import\s*["'](?:node|bun):/m.test(readFileSync(f, "utf8")))
      .map((f) => relative(SRC, f));
    expect(offenders).toEqual([]);
  });
});
