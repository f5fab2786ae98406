/**
 * The module graph of `src/` has no cycles: arrows point one way (cli → backupper → operations →
 * pipeline/storage/format → codec/util/errors/types), so each module can be read, tested and
 * replaced on its own. Type-only imports count too: a cycle through types is still a tangle.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Relative imports and re-exports of a module, as files under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g)];
  return specifiers.map((m) => resolve(dirname(file), (m[1] ?? m[2])!).replace(/\.js$/, ".ts"));
}

/** Every elementary cycle found by a depth-first search, each reported once from its smallest member. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found = new Map<string, string[]>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const done = new Set<string>();
  const visit = (node: string) => {
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (onStack.has(next)) {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        found.set(canonical.join(" → "), canonical);
      } else if (!done.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    onStack.delete(node);
    done.add(node);
  };
  for (const node of graph.keys()) if (!done.has(node)) visit(node);
  return [...found.values()];
}

describe("module graph of src/", () => {
  it("has no import cycle", () => {
    const files = sources(SRC);
    expect(files.length).toBeGreaterThan(40);
    const graph = new Map(files.map((f) => [f, importsOf(f)]));
    const rel = (f: string) => relative(SRC, f);
    expect(cycles(graph).map((c) => [...c, c[0]!].map(rel).join(" → "))).toEqual([]);
  });

  it("finds a cycle when there is one", () => {
    const graph = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
    expect(cycles(graph)).toEqual([["a", "b", "c"]]);
  });
});
