import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    "adapters/memory": "src/adapters/memory.ts",
    "adapters/s3": "src/adapters/s3.ts",
    fs: "src/fs.ts",
    sqlite: "src/sqlite.ts",
    testing: "src/testing.ts",
    cli: "src/cli/main.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  target: "es2022",
  platform: "neutral",
  splitting: true,
  treeshake: true,
  // Keep `node:` specifiers: Deno and Workers (nodejs_compat) resolve built-ins only by them.
  removeNodeProtocol: false,
  external: [/^node:/, /^bun:/],
});
