/**
 * Installs the runtimes the runtime tests need beyond `npm ci`, and says which ones are there:
 *   node --import tsx scripts/install-test-runtimes.ts      (run by `npm test`'s pretest)
 *
 * The second Node (24, for node:sqlite and the matrix) comes from the npm package
 * `node-<platform>-<arch>` for this machine (see NODE24_PACKAGES in test/runtimes/runtimes.ts),
 * installed into .tmp/runtimes/ (ignored by git). It is no devDependency: one pinned to a platform
 * makes `npm ci` fail elsewhere (EBADPLATFORM), an optional one would be installed by the
 * library's users too, and its `node` bin would shadow the machine's Node in npm scripts.
 * Bun, Deno and workerd are devDependencies whose packages pick the platform's binary; this
 * only checks them. Idempotent: nothing is fetched when the right version is already there.
 *
 * What cannot be installed is a warning here (the tests on it are then skipped, each with a line
 * saying why) and, under CI=true, a failure.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { INSTALL_HINT, installedVersion, node24Package, ROOT, RUNTIMES_DIR, runtime } from "../test/runtimes/runtimes.js";

const CI = process.env.CI === "true";
const say = (line: string) => console.error(`test runtimes: ${line}`);

function installNode24(): void {
  const pkg = node24Package();
  if (!pkg) {
    say(`no Node 24 package is published for ${process.platform}-${process.arch}`);
    return;
  }
  const dir = join(RUNTIMES_DIR, "node_modules", pkg.name);
  if (installedVersion(dir) === pkg.version && runtime("node24", { fresh: true }).missing === undefined) return;
  say(`installing ${pkg.name}@${pkg.version} into ${relative(ROOT, RUNTIMES_DIR)}/`);
  mkdirSync(RUNTIMES_DIR, { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  // The npm that runs this script (npm_execpath, unless another package manager runs it), else the one on PATH.
  const npm = /npm-cli\.[cm]?js$/.test(process.env.npm_execpath ?? "") ? process.env.npm_execpath : undefined;
  const [file, ...prefix] = npm ? [process.execPath, npm] : ["npm"];
  const args = ["install", "--prefix", RUNTIMES_DIR, "--no-save", "--no-package-lock", "--ignore-scripts", "--no-audit", "--no-fund", `${pkg.name}@${pkg.version}`];
  const run = spawnSync(file!, [...prefix, ...args], { stdio: ["ignore", "inherit", "inherit"], shell: process.platform === "win32" && !npm });
  if (run.status !== 0) {
    say(`npm install ${pkg.name}@${pkg.version} failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`})`);
  }
}

installNode24();
const all = ["node", "node24", "bun", "deno", "workerd"] as const;
const missing = all.map((id) => runtime(id, { fresh: true })).filter((rt) => rt.missing !== undefined);
for (const rt of missing) say(`${rt.name} missing: ${rt.missing}`);
const found = all.map((id) => runtime(id)).filter((rt) => rt.missing === undefined);
say(`found ${found.map((rt) => `${rt.id} ${rt.version}`).join(", ")}`);
if (missing.length > 0) {
  if (CI) {
    say("under CI=true every runtime is required");
    process.exit(1);
  }
  say(`tests on a missing runtime are skipped, each with a line saying why (${INSTALL_HINT})`);
}
