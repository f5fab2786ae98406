// Runs the matrix's S3 check in workerd (through Miniflare) and prints one JSON line:
//   node test/runtimes/children/workerd.mjs [--nodejs-compat]
// S3 settings come from the same S3_* variables as test/runtimes/children/main.mjs.
import { fileURLToPath } from "node:url";
import { startWorker } from "./miniflare.mjs";

const nodejsCompat = process.argv.includes("--nodejs-compat");
const names = ["S3_ENDPOINT", "S3_REGION", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"];
const bindings = Object.fromEntries(names.map((name) => [name, process.env[name] ?? ""]));

const mf = await startWorker(fileURLToPath(new URL("./worker.mjs", import.meta.url)), { nodejsCompat, bindings });
try {
  const response = await mf.dispatchFetch("http://worker/");
  const result = await response.json();
  const runtime = `workerd (${nodejsCompat ? "nodejs_compat" : "no compatibility flags"}), ${result.runtime}`;
  console.log(JSON.stringify({ ...result, runtime }));
  if (!response.ok) process.exitCode = 1;
} finally {
  await mf.dispose();
}
