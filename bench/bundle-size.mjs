// The cost of backupper in a browser/Worker bundle: esbuild, minified, gzip -9, of an entry
// that imports createBackupper from `backupper` and s3Adapter from `backupper/s3` (mapped to
// the sources, so the figure does not depend on a fresh build). Shared by the bundle-size
// test and the benchmark report.
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

export const ENTRY = `import { createBackupper } from "backupper";
import { s3Adapter } from "backupper/s3";
export { createBackupper, s3Adapter };
`;

/**
 * { minified, gzipped } byte counts of the entry bundled for `platform` ("browser" or "neutral"),
 * and `lazyAge`: whether `age-encryption` is only imported dynamically. It is left out of the
 * count: a backupper without encryption never loads it, and a bundler that splits chunks puts
 * it in one of its own.
 */
export async function bundleSize(platform = "browser") {
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: root, loader: "js" },
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
  const code = result.outputFiles[0].contents;
  const text = new TextDecoder().decode(code);
  const lazyAge = text.includes('import("age-encryption")') && !/from\s*"age-encryption"/.test(text);
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length, lazyAge };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const platform of ["browser", "neutral"]) console.log(platform, await bundleSize(platform));
}
