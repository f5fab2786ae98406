// The cost of backupper in a browser/Worker bundle: esbuild, minified, gzip -9, of an entry
// that imports createBackupper from `backupper` and s3Adapter from `backupper/s3` (mapped to
// the sources, so the figure does not depend on a fresh build). Shared by the bundle-size
// test and the benchmark report. Split at dynamic imports, as bundlers for Workers and
// browsers do: what loads only when needed (fzstd, for reading zstd) is a chunk of its own,
// counted apart as `lazy`.
import { gzipSync } from "node:zlib";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

export const ENTRY = `import { createBackupper } from "backupper";
import { s3Adapter } from "backupper/s3";
export { createBackupper, s3Adapter };
`;

const VIRTUAL = "bundle-size-entry";

/**
 * { minified, gzipped } byte counts of the entry bundled for `platform` ("browser" or "neutral"),
 * `lazy`: gzipped bytes of the chunks loaded on demand, and `lazyAge`: whether `age-encryption`
 * is only imported dynamically. It is external and not counted at all: a backupper without
 * encryption never loads it, and a bundler that splits chunks puts it in one of its own.
 */
export async function bundleSize(platform = "browser") {
  const result = await build({
    entryPoints: [VIRTUAL],
    plugins: [
      {
        name: VIRTUAL,
        setup(b) {
          b.onResolve({ filter: new RegExp(`^${VIRTUAL}$`) }, () => ({ path: VIRTUAL, namespace: VIRTUAL }));
          b.onLoad({ filter: /.*/, namespace: VIRTUAL }, () => ({ contents: ENTRY, resolveDir: root, loader: "js" }));
        },
      },
    ],
    absWorkingDir: root,
    splitting: true,
    metafile: true,
    outdir: "bundle-size-out",
    bundle: true,
    minify: true,
    format: "esm",
    platform,
    mainFields: ["module", "main"],
    target: "es2022",
    write: false,
    logLevel: "silent",
    external: ["age-encryption"],
    alias: { "backupper/s3": `${root}src/adapters/s3.ts`, backupper: `${root}src/index.ts` },
  });
  // What loads with the entry: it and the chunks it imports statically; the rest loads on demand.
  const outputs = result.metafile.outputs;
  const files = new Map(result.outputFiles.map((f) => [relative(root, f.path), f.contents]));
  const eager = new Set();
  const visit = (path) => {
    if (eager.has(path)) return;
    eager.add(path);
    for (const i of outputs[path].imports) if (i.kind === "import-statement" && !i.external) visit(i.path);
  };
  visit(Object.keys(outputs).find((path) => outputs[path].entryPoint !== undefined));
  const gz = (code) => gzipSync(code, { level: 9 }).length;
  const sum = (paths, size) => paths.reduce((n, path) => n + size(files.get(path)), 0);
  const lazy = [...files.keys()].filter((path) => !eager.has(path));
  const ageImports = Object.values(outputs).flatMap((o) => o.imports.filter((i) => i.path === "age-encryption"));
  const lazyAge = ageImports.length > 0 && ageImports.every((i) => i.kind === "dynamic-import");
  return { minified: sum([...eager], (c) => c.length), gzipped: sum([...eager], gz), lazy: sum(lazy, gz), lazyAge };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const platform of ["browser", "neutral"]) console.log(platform, await bundleSize(platform));
}
