// What age encryption costs a backup (issue 11: ≤ 15% of backup throughput, on the gzip path and
// on the zstd path, in the same run). Backups of the job-queue database to the fs adapter with
// and without `encryption: { recipients }`, in rounds that run every case once, each run its own
// process; the ratio encrypted ÷ clear is the cost. On Node 24 (.tmp/runtimes, installed by
// `npm run install-test-runtimes`) since Node 20 has no zstd; the machine's Node otherwise, then
// without the zstd rows.
//   node bench/encryption.mjs [--runs N] [--quick]      rewrites the "Encryption cost" section of bench/RESULTS.md
//   node bench/encryption.mjs '<json spec>'            one measured case (internal)
// bench/run.mjs calls encryptionCost() after writing its own results.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { queueDb } from "./generate-db.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "..");
const SECTION = "## Encryption cost";
// A recipient only: the backup needs no identity, as on a server that holds public keys only.
const RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

const node24 = join(root, ".tmp/runtimes/node_modules", `node-${process.platform}-${process.arch}`, "bin/node");

/** One backup, in this process: `{ ms, cpuMs, bytes, storedBytes, maxRssKiB }`. */
async function measureOne({ db, work, compression, encrypted }) {
  const { createBackupper } = await import("../dist/index.js");
  const { fsAdapter, fileSource } = await import("../dist/fs.js");
  const b = createBackupper({
    adapter: fsAdapter({ root: join(work, "fs") }),
    source: fileSource(db, { name: "queue" }),
    retention: 1,
    prefix: `bench-${compression}-${encrypted ? "age" : "clear"}/`,
    compression,
    ...(encrypted ? { encryption: { recipients: [RECIPIENT] } } : {}),
  });
  const cpu = process.cpuUsage();
  const start = performance.now();
  const info = await b.backup();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000, bytes: info.size, storedBytes: info.meta?.compressedSize, maxRssKiB: process.resourceUsage().maxRSS };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function spawnCase(binary, spec) {
  const run = spawnSync(binary, ["--no-warnings", fileURLToPath(import.meta.url), JSON.stringify(spec)], { encoding: "utf8", maxBuffer: 1 << 20 });
  const last = run.stdout.trim().split("\n").pop();
  try {
    return JSON.parse(last);
  } catch {
    return { error: `exit ${run.status}: ${run.stderr.trim().split("\n").pop()}` };
  }
}

/**
 * Runs the cases at each size in `sizes` (MiB), `runs` rounds each; returns the rows and the
 * load average before and after (the machine is shared: only same-run ratios mean anything).
 */
export function encryptionCost({ sizes, runs, log = () => {} }) {
  const binary = existsSync(node24) ? node24 : process.execPath;
  const runtime = spawnSync(binary, ["--version"], { encoding: "utf8" }).stdout.trim();
  const zstd = binary === node24;
  const load = [loadavg()];
  const work = mkdtempSync(join(tmpdir(), "bench-age-"));
  const results = [];
  try {
    for (const mib of sizes) {
      const db = queueDb(mib, log);
      const cases = ["gzip", ...(zstd ? ["zstd"] : [])].flatMap((compression) => [false, true].map((encrypted) => ({ compression, encrypted, samples: [] })));
      for (let round = 0; round < runs; round++) {
        for (const c of cases) {
          const r = spawnCase(binary, { db, work, compression: c.compression, encrypted: c.encrypted });
          if (r.error) throw new Error(`${c.compression} ${c.encrypted ? "age" : "clear"}: ${r.error}`);
          c.samples.push(r);
        }
      }
      for (const compression of new Set(cases.map((c) => c.compression))) {
        const [clear, sealed] = [false, true].map((encrypted) => summary(cases.find((c) => c.compression === compression && c.encrypted === encrypted)));
        const row = { mib, compression, clear, sealed, ratio: sealed.mbps / clear.mbps, cpuRatio: sealed.cpuMs / clear.cpuMs };
        log(`encryption ${mib} MiB ${compression}: ${clear.mbps.toFixed(1)} → ${sealed.mbps.toFixed(1)} MB/s (× ${row.ratio.toFixed(3)})`);
        results.push(row);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  load.push(loadavg());
  return { runtime, runs, zstd, load, rows: results };
}

function summary(c) {
  const ms = median(c.samples.map((s) => s.ms));
  return {
    mbps: c.samples[0].bytes / 1e6 / (ms / 1000),
    ms,
    cpuMs: median(c.samples.map((s) => s.cpuMs)),
    storedBytes: c.samples[0].storedBytes,
    peakRssMiB: median(c.samples.map((s) => s.maxRssKiB)) / 1024,
    samplesMs: c.samples.map((s) => Math.round(s.ms)),
  };
}

/** The "Encryption cost" section of RESULTS.md. */
function encryptionSection(r) {
  const fmt = (l) => l.map((x) => x.toFixed(2)).join(", ");
  const lines = [
    SECTION,
    "",
    `Backups of the job-queue database to the fs adapter on ${r.runtime}, compression level 6, one worker, without and with ` +
      "`encryption: { recipients: [age1…] }` (header and payload on node:crypto: X25519, HKDF-SHA-256, ChaCha20-Poly1305). " +
      `Medians of ${r.runs} runs taken in rounds, each run its own process; load average (1, 5, 15 min) ${fmt(r.load[0])} before, ${fmt(r.load[1])} after: ` +
      "other work shared the 2 cores, so compare the same-run ratios, not the MB/s. The target (issue 11) is a ratio ≥ 0.85: encryption costs ≤ 15% of throughput." +
      (r.zstd ? "" : " No zstd rows: Node 24 is not installed in .tmp/runtimes (npm run install-test-runtimes)."),
    "",
    "| size | compression | clear MB/s | encrypted MB/s | throughput × clear | CPU × clear | stored bytes (clear → encrypted) | runs clear / encrypted (ms) | met |",
    "|---:|---|---:|---:|---:|---:|---|---|---|",
    ...r.rows.map(
      (x) =>
        `| ${x.mib} MiB | ${x.compression} | ${x.clear.mbps.toFixed(1)} | ${x.sealed.mbps.toFixed(1)} | ${x.ratio.toFixed(3)} | ${x.cpuRatio.toFixed(3)} | ` +
        `${x.clear.storedBytes} → ${x.sealed.storedBytes} | ${x.clear.samplesMs.join(", ")} / ${x.sealed.samplesMs.join(", ")} | ${x.ratio >= 0.85 ? "yes" : "**no**"} |`,
    ),
    "",
    "Where the time goes: [PROFILE.md](PROFILE.md#encryption).",
    "",
  ];
  return lines.join("\n");
}

/** Replaces (or appends) the section in the markdown file `file`. */
export function writeEncryptionSection(file, r) {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const start = text.indexOf(`\n${SECTION}\n`);
  const section = encryptionSection(r);
  if (start < 0) return writeFileSync(file, `${text.trimEnd()}\n\n${section}`);
  const next = text.indexOf("\n## ", start + SECTION.length + 2);
  writeFileSync(file, `${text.slice(0, start + 1)}${section}${next < 0 ? "" : text.slice(next + 1)}`);
}

const [arg] = process.argv.slice(2);
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (arg?.startsWith("{")) {
    try {
      console.log(JSON.stringify(await measureOne(JSON.parse(arg))));
    } catch (error) {
      console.log(JSON.stringify({ error: String(error?.message ?? error).split("\n")[0].slice(0, 200) }));
    }
  } else {
    const args = process.argv.slice(2);
    const i = args.indexOf("--runs");
    const quick = args.includes("--quick");
    const r = encryptionCost({ sizes: quick ? [64] : [64, 512], runs: i < 0 ? 5 : Number(args[i + 1]), log: (...m) => console.error("bench:", ...m) });
    // As bench/run.mjs: a quick run must not replace the committed results.
    const out = quick ? join(here, ".data", "quick-") : `${here}/`;
    writeEncryptionSection(`${out}RESULTS.md`, r);
    console.log(encryptionSection(r));
  }
}
