// Runs a Worker that imports the BUILT package in workerd: esbuild bundles it as wrangler
// would (the `workerd`/`worker` export conditions), Miniflare serves the bundle.
import { build } from "esbuild";
import { Miniflare } from "miniflare";

const COMPATIBILITY_DATE = "2025-09-01";

/**
 * A Miniflare instance serving `entry`. `nodejsCompat` turns on `nodejs_compat` (node:zlib and
 * node:crypto, so the native codec); `bindings` become the Worker's `env` (plain strings).
 */
export async function startWorker(entry, { nodejsCompat, bindings }) {
  const bundle = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    // Only with nodejs_compat do `node:*` modules exist; without it a bundle that imported one would fail to load.
    external: nodejsCompat ? ["node:*"] : [],
    logLevel: "silent",
  });
  return new Miniflare({
    // Listed rather than `script`: Miniflare's import scan rejects the codec's variable `import()` specifier.
    modules: [{ type: "ESModule", path: "worker.mjs", contents: bundle.outputFiles[0].text }],
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: nodejsCompat ? ["nodejs_compat"] : [],
    bindings,
  });
}
