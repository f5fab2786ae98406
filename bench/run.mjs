// The benchmarks of issues 5 and 10: backupper against the shell tools, pigz, the AWS SDK and the
// seed's approach (issue 5), and the CLI against restic and the AWS CLI on the same Ceph RGW
// (issue 10), on generated job-queue SQLite databases, in one run so the ratios hold.
//   npm run bench                 64 MiB and 512 MiB tables + the 2 GiB+ memory curve
//   npm run bench -- --quick      64 MiB only
//   options: --runs N (default 3), --large-runs N (2 GiB+ runs, default 1)
// Every measurement is its own child process (bench/case.mjs), so each peak RSS is the
// case's own. `npm run bench`'s pre-step installs restic, pigz, the AWS CLI and zstd
// (scripts/install-bench-tools.sh) and the Node 24 that writes zstd (scripts/install-test-runtimes.ts). S3 cases run against a throwaway Ceph RGW (scripts/ceph-rgw.sh), or the one
// whose directory BENCH_RGW_DIR names. Writes bench/RESULTS.md, bench/results.json and bench/results.svg
// (a --quick run writes bench/.data/quick-RESULTS.md and quick-results.json instead).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { chartSvg } from "./chart.mjs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleSize } from "./bundle-size.mjs";
import { queueDb } from "./generate-db.mjs";
import { runtime } from "../test/runtimes/runtimes.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "..");
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const quick = args.includes("--quick");
const runs = flag("--runs", 3);
const largeRuns = flag("--large-runs", 1);
const log = (...m) => console.error("bench:", ...m);

// ---- cases --------------------------------------------------------------------------
// `ref` names the row a case's ratio is taken to; `s3` cases need the gateway.
const BACKUP = [
  { id: "shell", label: "shell `tee >(sha256sum) | gzip -6`", spec: { case: "shell-backup" } },
  { id: "pigz", label: "shell `tee >(sha256sum) | pigz -6 -p 2`", spec: { case: "pigz-backup" }, needs: "pigz" },
  { id: "bk-fs", label: "backupper default → fs", spec: { case: "backupper-backup", adapter: "fs" } },
  { id: "bk-fs-par", label: "backupper compressionWorkers: 2 → fs", spec: { case: "backupper-backup", adapter: "fs", workers: 2 } },
  { id: "bk-fs-fast", label: "backupper level 1, compressionWorkers: 2 → fs", spec: { case: "backupper-backup", adapter: "fs", workers: 2, level: 1 } },
  { id: "bk-s3", label: "backupper default → RGW", spec: { case: "backupper-backup", adapter: "s3" }, s3: true },
  { id: "bk-s3-par", label: "backupper compressionWorkers: 2 → RGW", spec: { case: "backupper-backup", adapter: "s3", workers: 2 }, s3: true },
  {
    id: "bk-s3-lean",
    label: "backupper default → RGW, s3Adapter partSize 5 MiB, concurrency 2",
    spec: { case: "backupper-backup", adapter: "s3", s3Options: { partSize: 5 * 1024 * 1024, concurrency: 2 } },
    s3: true,
  },
  { id: "aws", label: "AWS SDK v3 `Upload` + node:zlib → RGW", spec: { case: "aws-sdk-backup" }, s3: true },
  { id: "seed", label: "seed: readFile + gzipSync + one PUT → RGW", spec: { case: "seed-backup" }, s3: true },
];
const RESTORE = [
  { id: "shell-r", label: "shell `gzip -dc | sha256sum`", spec: { case: "shell-restore" } },
  { id: "pigz-r", label: "shell `pigz -dc | sha256sum`", spec: { case: "pigz-restore" }, needs: "pigz" },
  { id: "bk-fs-verify", label: "backupper verify ← fs", spec: { case: "backupper-verify", adapter: "fs" } },
  { id: "bk-fs-restore", label: "backupper restore ← fs (to a file, fsync)", spec: { case: "backupper-restore", adapter: "fs" } },
  { id: "bk-s3-verify", label: "backupper verify ← RGW", spec: { case: "backupper-verify", adapter: "s3" }, s3: true },
  { id: "aws-r", label: "AWS SDK v3 GetObject + node:zlib ← RGW", spec: { case: "aws-sdk-restore" }, s3: true },
];
// Issue 10: the CLI as a user runs it, `backupper now --source queue.db` (a SQLite source) to
// RGW, against restic and the AWS CLI; ratios to restic. zstd needs Node >= 22.15: those rows
// run the CLI on Node 24. The "plain file" rows back up the same bytes with the header's first
// byte changed, so the CLI takes them as a file: the cost of the consistent SQLite snapshot.
const PEERS = [
  { id: "restic", label: "`restic backup --stdin` (0.14, zstd, encrypted, fresh repository)", spec: { case: "restic-backup" }, s3: true, needs: "restic" },
  { id: "cli-gzip", label: "`backupper now` (gzip -6, default; Node 20)", spec: { case: "cli-backup" }, s3: true },
  { id: "cli-zstd1", label: "`backupper now --compression zstd` (Node 24)", spec: { case: "cli-backup", compression: "zstd", node24: true }, s3: true, needs: "node24" },
  {
    id: "cli-zstd2",
    label: "`backupper now --compression zstd --compression-workers 2` (Node 24)",
    spec: { case: "cli-backup", compression: "zstd", workers: 2, node24: true, keep: true },
    s3: true,
    needs: "node24",
  },
  { id: "cli-gzip-file", label: "same bytes as a plain file: `backupper now` (gzip, Node 20)", spec: { case: "cli-backup", plain: true }, s3: true },
  {
    id: "cli-zstd2-file",
    label: "same bytes as a plain file: zstd, 2 workers (Node 24)",
    spec: { case: "cli-backup", compression: "zstd", workers: 2, node24: true, plain: true },
    s3: true,
    needs: "node24",
  },
  { id: "gzip-aws", label: "`gzip -6 | aws s3 cp -`", spec: { case: "gzip-aws-backup" }, s3: true, needs: "/usr/bin/aws" },
  { id: "zstd-aws", label: "`zstd -3 | aws s3 cp -`", spec: { case: "zstd-aws-backup" }, s3: true, needs: "/usr/bin/aws" },
  { id: "aws-raw", label: "`aws s3 cp` of the raw file (the server's upload ceiling)", spec: { case: "aws-raw-backup" }, s3: true, needs: "/usr/bin/aws" },
];
const PEERS_RESTORE = [
  { id: "restic-r", label: "`restic dump latest` (to a file, synced)", spec: { case: "restic-restore" }, s3: true, needs: "restic" },
  {
    id: "cli-zstd2-restore",
    label: "`backupper restore` of the zstd backup (Node 24, to a file, fsync)",
    spec: { case: "cli-restore", compression: "zstd", workers: 2, node24: true },
    s3: true,
    needs: "node24",
  },
];

// The memory curve at 2 GiB+: default settings and parallel, to the fs adapter, and the default to RGW.
const LARGE = ["shell", "bk-fs", "bk-fs-par", "bk-s3"];

const sizes = quick ? [64] : [64, 512];
const largeSize = 2200;

// ---- environment --------------------------------------------------------------------
const node24 = runtime("node24");
const have = (tool) => (tool === "node24" ? !node24.missing : spawnSync("bash", ["-c", `command -v ${tool}`]).status === 0);
const loadAverages = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const version = (cmd) => {
  try {
    return execFileSync("bash", ["-c", cmd], { encoding: "utf8" }).split("\n")[0].trim();
  } catch {
    return "not installed";
  }
};
const pkgVersion = (name) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;

const environment = {
  date: new Date().toISOString(),
  runtime: `node ${process.version}`,
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  gzip: version("gzip --version"),
  pigz: version("pigz --version 2>&1"),
  sha256sum: version("sha256sum --version"),
  rgw: version("radosgw --version"),
  restic: version("restic version"),
  awscli: version("/usr/bin/aws --version"),
  zstd: version("zstd --version"),
  node24: node24.missing ? `not installed (${node24.missing})` : node24.version,
  loadAtStart: loadAverages(),
  backupper: JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version,
  "@aws-sdk/client-s3": pkgVersion("@aws-sdk/client-s3"),
  "@aws-sdk/lib-storage": pkgVersion("@aws-sdk/lib-storage"),
  runs,
};

function startRgw() {
  if (process.env.BENCH_RGW_DIR) return { dir: process.env.BENCH_RGW_DIR, owned: false };
  if (!have("radosgw")) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "bench-rgw-"));
  log("starting Ceph RGW in", dir);
  const run = spawnSync("bash", [join(root, "scripts/ceph-rgw.sh"), "start", dir], {
    encoding: "utf8",
    env: { ...process.env, CEPH_RGW_OWNER_PID: String(process.pid) },
  });
  if (run.status !== 0) {
    log("RGW did not start:", run.stderr.trim().split("\n").slice(-3).join(" | "));
    return undefined;
  }
  return { dir, owned: true };
}

function collectRgwGarbage() {
  const conf = rgw && join(rgw.dir, "ceph.conf");
  if (conf) spawnSync("timeout", ["120", "radosgw-admin", "--conf", conf, "gc", "process", "--include-all"], { stdio: "ignore" });
}

/** Deletes every object of the bench's bucket, so the memstore holds one size's backups at a time. */
function emptyBucket(env) {
  if (!env || !have("/usr/bin/aws")) return;
  spawnSync("/usr/bin/aws", ["--endpoint-url", env.S3_ENDPOINT, "s3", "rm", "--recursive", "--quiet", `s3://${env.S3_BUCKET}/`], {
    stdio: "ignore",
    env: { ...process.env, AWS_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION: env.S3_REGION, AWS_CONFIG_FILE: "/dev/null" },
  });
  collectRgwGarbage();
}

function rgwEnv(dir) {
  const env = {};
  for (const line of readFileSync(join(dir, "env"), "utf8").split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

// ---- measuring ----------------------------------------------------------------------
function measure(spec, db, work, env) {
  const run = spawnSync(process.execPath, ["--no-warnings", join(here, "case.mjs"), JSON.stringify({ ...spec, db, work })], {
    encoding: "utf8",
    env: { ...process.env, ...env, ...(node24.missing ? {} : { BENCH_NODE24: node24.binary }) },
    maxBuffer: 1 << 20,
  });
  const last = run.stdout.trim().split("\n").pop();
  try {
    return JSON.parse(last);
  } catch {
    return { error: `exit ${run.status}: ${run.stderr.trim().split("\n").pop()}` };
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Runs every case `n` times, in rounds (each round runs each case once), so load from other
 * work on the machine falls on all cases alike and the same-run ratios stay meaningful.
 */
function runCases(list, db, work, env, n) {
  const rows = list.map((c) => {
    if (c.needs && !have(c.needs)) return { id: c.id, label: c.label, skipped: `${c.needs} not installed` };
    if (c.s3 && !env) return { id: c.id, label: c.label, skipped: "no S3 test server" };
    return { id: c.id, label: c.label, samples: [] };
  });
  for (let round = 0; round < n; round++) {
    list.forEach((c, i) => {
      const row = rows[i];
      if (!row.samples) return;
      const r = measure(c.spec, db, work, env);
      // RGW only frees deleted and overwritten objects in its garbage collection; without it
      // the memstore fills up after a few runs and the gateway stops reading uploads.
      if (c.s3) collectRgwGarbage();
      if (r.error) {
        rows[i] = { id: c.id, label: c.label, error: r.error };
        log(`${c.id}: ${r.error}`);
      } else row.samples.push(r);
    });
  }
  return rows.map((row) => {
    if (!row.samples) return row;
    const { samples } = row;
    const bytes = samples[0].bytes;
    const ms = median(samples.map((s) => s.ms));
    const result = {
      id: row.id,
      label: row.label,
      runs: samples.length,
      bytes,
      seconds: ms / 1000,
      mbps: bytes / 1e6 / (ms / 1000),
      peakRssMiB: median(samples.map((s) => s.maxRssKiB)) / 1024,
      samplesMs: samples.map((s) => Math.round(s.ms)),
    };
    log(`${row.id}: ${result.mbps.toFixed(1)} MB/s, ${result.peakRssMiB.toFixed(0)} MiB`);
    return result;
  });
}

function withRatios(rows, refId) {
  const ref = rows.find((r) => r.id === refId && r.mbps);
  for (const r of rows) if (r.mbps && ref) r.ratio = r.mbps / ref.mbps;
  return rows;
}

// ---- main ---------------------------------------------------------------------------
const rgw = quick && args.includes("--no-s3") ? undefined : startRgw();
const env = rgw ? rgwEnv(rgw.dir) : undefined;
const work = mkdtempSync(join(tmpdir(), "bench-work-"));
const results = { environment, sizes: {}, large: undefined, bundle: undefined, targets: undefined };

try {
  for (const mib of sizes) {
    const db = queueDb(mib, log);
    const dir = join(work, String(mib));
    log(`--- ${mib} MiB (${db})`);
    const backup = withRatios(runCases(BACKUP, db, dir, env, runs), "shell");
    const restore = withRatios(runCases(RESTORE, db, dir, env, runs), "shell-r");
    const peers = withRatios(runCases(PEERS, db, dir, env, runs), "restic");
    const peersRestore = withRatios(runCases(PEERS_RESTORE, db, dir, env, runs), "restic-r");
    results.sizes[mib] = { backup, restore, peers, peersRestore };
    rmSync(dir, { recursive: true, force: true });
    emptyBucket(env);
  }
  if (!quick) {
    const db = queueDb(largeSize, log);
    const dir = join(work, "large");
    log(`--- ${largeSize} MiB memory curve`);
    results.large = withRatios(runCases(LARGE.map((id) => BACKUP.find((c) => c.id === id)), db, dir, env, largeRuns), "shell");
    rmSync(dir, { recursive: true, force: true });
  }
  results.bundle = await bundleSize("browser");
  results.environment.loadAtEnd = loadAverages();
} finally {
  rmSync(work, { recursive: true, force: true });
  if (rgw?.owned) spawnSync("bash", [join(root, "scripts/ceph-rgw.sh"), "stop", rgw.dir]);
}

results.targets = targets(results);
// A quick run must not replace the committed full results.
const out = quick ? join(here, ".data", "quick-") : here + "/";
writeFileSync(`${out}results.json`, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(`${out}results.svg`, chartSvg(results));
const markdown = report(results);
console.log(markdown);
writeFileSync(`${out}RESULTS.md`, markdown);
await import("./encryption.mjs").then((m) => m.writeEncryptionSection(`${out}RESULTS.md`, m.encryptionCost({ sizes, runs, log })));

// ---- targets and report -------------------------------------------------------------
function targets(r) {
  const mib = quick ? 64 : 512;
  const at = (group, id) => r.sizes[mib]?.[group].find((x) => x.id === id);
  const out = [];
  const check = (name, value, goal, ok) => out.push({ name, value, goal, met: value === undefined ? undefined : ok(value) });
  const ratio = (row) => row?.ratio;
  check(`backup, one core, vs shell gzip -6 (${mib} MiB)`, ratio(at("backup", "bk-fs")), "≥ 1.3×", (v) => v >= 1.3);
  check(`backup, compressionWorkers 2, vs shell (${mib} MiB)`, ratio(at("backup", "bk-fs-par")), "≥ 2.2×", (v) => v >= 2.2);
  const aws = at("backup", "aws");
  const bk = at("backup", "bk-s3");
  check(`backup → RGW throughput vs AWS SDK (${mib} MiB)`, aws?.mbps && bk?.mbps ? bk.mbps / aws.mbps : undefined, "≥ 1.0×", (v) => v >= 1.0);
  check(`backup → RGW peak RSS vs AWS SDK (${mib} MiB)`, aws?.peakRssMiB && bk?.peakRssMiB ? bk.peakRssMiB / aws.peakRssMiB : undefined, "≤ 0.5×", (v) => v <= 0.5);
  const lean = at("backup", "bk-s3-lean");
  check(`  same, s3Adapter partSize 5 MiB + concurrency 2: peak RSS vs AWS SDK`, aws?.peakRssMiB && lean?.peakRssMiB ? lean.peakRssMiB / aws.peakRssMiB : undefined, "≤ 0.5×", (v) => v <= 0.5);
  check(`restore (verify ← fs) vs gzip -dc | sha256sum (${mib} MiB)`, ratio(at("restore", "bk-fs-verify")), "≥ 1.2×", (v) => v >= 1.2);
  const small = r.sizes[64]?.backup.find((x) => x.id === "bk-fs");
  const large = r.large?.find((x) => x.id === "bk-fs");
  check(`peak RSS ${largeSize} MiB / 64 MiB backup, default`, large?.peakRssMiB && small?.peakRssMiB ? large.peakRssMiB / small.peakRssMiB : undefined, "≤ 1.15×", (v) => v <= 1.15);
  check(`peak RSS ${largeSize} MiB backup, default (MiB)`, large?.peakRssMiB, "≤ 96", (v) => v <= 96);
  check("bundle backupper + backupper/s3, min+gz (bytes)", r.bundle?.gzipped, "≤ 15000", (v) => v <= 15000);
  // Issue 10: the CLI on a SQLite source → RGW, against restic and the shell pipelines.
  const peer = (id) => r.sizes[mib]?.peers.find((x) => x.id === id);
  const restic = peer("restic");
  const vs = (a, b, key = "mbps") => (a?.[key] && b?.[key] ? a[key] / b[key] : undefined);
  check(`zstd, 2 workers: throughput vs restic (${mib} MiB)`, vs(peer("cli-zstd2"), restic), "≥ 1.5×", (v) => v >= 1.5);
  check(`zstd, 2 workers: peak RSS vs restic (${mib} MiB)`, vs(peer("cli-zstd2"), restic, "peakRssMiB"), "≤ 1.0×", (v) => v <= 1.0);
  check(`zstd, 1 worker: throughput vs restic (${mib} MiB)`, vs(peer("cli-zstd1"), restic), "≥ 1.0×", (v) => v >= 1.0);
  check(`gzip default: throughput vs \`gzip -6 | aws s3 cp -\` (${mib} MiB)`, vs(peer("cli-gzip"), peer("gzip-aws")), "≥ 1.1×", (v) => v >= 1.1);
  const restored = r.sizes[mib]?.peersRestore;
  check(`restore of a zstd backup vs \`restic dump\` (${mib} MiB)`, vs(restored?.find((x) => x.id === "cli-zstd2-restore"), restored?.find((x) => x.id === "restic-r")), "≥ 3×", (v) => v >= 3);
  // Time is the inverse of throughput for the same bytes: SQLite source time / plain file time.
  check(`SQLite source vs the same bytes as a plain file, time, gzip (${mib} MiB)`, vs(peer("cli-gzip-file"), peer("cli-gzip")), "≤ 1.2×", (v) => v <= 1.2);
  check(`SQLite source vs the same bytes as a plain file, time, zstd 2 workers (${mib} MiB)`, vs(peer("cli-zstd2-file"), peer("cli-zstd2")), "≤ 1.2×", (v) => v <= 1.2);
  const smallS3 = r.sizes[64]?.backup.find((x) => x.id === "bk-s3");
  const largeS3 = r.large?.find((x) => x.id === "bk-s3");
  check(`peak RSS ${largeSize} MiB / 64 MiB backup → RGW, default`, vs(largeS3, smallS3, "peakRssMiB"), "≤ 1.15×", (v) => v <= 1.15);
  check(`peak RSS backup → RGW / → fs, default (${mib} MiB)`, vs(at("backup", "bk-s3"), at("backup", "bk-fs"), "peakRssMiB"), "close to 1×", (v) => v <= 1.15);
  return out;
}

function cell(text) {
  return String(text).replaceAll("|", "\\|");
}

function table(rows, refName) {
  const lines = [`| case | MB/s | × ${refName} | peak RSS MiB | runs (ms) |`, "|---|---:|---:|---:|---|"];
  for (const x of rows) {
    if (x.skipped || x.error) lines.push(`| ${cell(x.label)} | ${cell(x.skipped ?? `error: ${x.error}`)} | | | |`);
    else lines.push(`| ${cell(x.label)} | ${x.mbps.toFixed(1)} | ${x.ratio?.toFixed(2) ?? ""} | ${x.peakRssMiB.toFixed(0)} | ${x.samplesMs.join(", ")} |`);
  }
  return lines.join("\n");
}

function report(r) {
  const e = r.environment;
  const parts = [
    "# Benchmark results",
    "",
    `Generated by \`npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}\` on ${e.date}: ${e.runtime}, ${e.cpu} (${e.cores} cores, ${e.memoryGiB} GiB), ` +
      `${e.gzip}, ${e.pigz}, ${e.sha256sum}, Ceph RGW ${e.rgw}, ${e.restic}, ${e.awscli}, ${e.zstd}, Node 24: ${e.node24}, backupper ${e.backupper}, @aws-sdk/client-s3 ${e["@aws-sdk/client-s3"]}, ` +
      `@aws-sdk/lib-storage ${e["@aws-sdk/lib-storage"]}. Medians of ${e.runs} runs (${largeRuns} at ${largeSize} MiB), taken in rounds that run every case once; each run is its own process. ` +
      "MB/s are of original (uncompressed) bytes; ratios are to the shell reference in the same run. " +
      "The machine is shared with other work, so absolute numbers drift: compare ratios. " +
      `Load averages (1, 5, 15 min) at the start: ${e.loadAtStart}; at the end: ${e.loadAtEnd ?? "n/a"} (2 cores).`,
    "",
  ];
  for (const [mib, { backup, restore, peers, peersRestore }] of Object.entries(r.sizes)) {
    parts.push(`## ${mib} MiB job-queue database`, "", "### Backup (read → SHA-256 + gzip → store)", "", table(backup, "shell"), "");
    parts.push("### Restore (read → gunzip → SHA-256)", "", table(restore, "gzip -dc"), "");
    if (peers) {
      parts.push("### The CLI against restic and the AWS CLI, SQLite source → RGW (issue 10)", "", table(peers, "restic"), "");
      parts.push("### Restore against `restic dump`", "", table(peersRestore, "restic dump"), "");
    }
  }
  if (r.large) parts.push(`## ${largeSize} MiB: the memory curve`, "", table(r.large, "shell"), "");
  parts.push(
    "## Bundle",
    "",
    `esbuild (browser, minified) of \`import { createBackupper } from "backupper"; import { s3Adapter } from "backupper/s3"\`: ` +
      `${r.bundle.minified} bytes, ${r.bundle.gzipped} bytes gzip -9.`,
    "",
    "## Targets",
    "",
    "Why the missed ones are missed, with the profiles: [PROFILE.md](PROFILE.md).",
    "",
    "| target | measured | goal | met |",
    "|---|---:|---|---|",
    ...r.targets.map((t) => `| ${cell(t.name)} | ${t.value === undefined ? "n/a" : t.value.toFixed(2)} | ${t.goal} | ${t.met === undefined ? "not measured" : t.met ? "yes" : "**no**"} |`),
    "",
  );
  return parts.join("\n");
}
