/**
 * The metrics pass the real `promtool check metrics` (Debian's `prometheus` package; installed
 * by scripts/install-test-servers.sh, and a missing promtool fails these tests, never skips
 * them): the library's `metrics()` and the bin's `status --prometheus` before any backup, after a
 * success, after a failure and after a drill; `--textfile` is replaced atomically, which a reader
 * in another process polling it through 300 rewrites confirms; `run --textfile` keeps it fresh.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { textfile } from "../../src/cli/textfile.js";
import { createBackupper, streamSource } from "../../src/index.js";
import { runBin, type BinResult } from "../helpers/bin.js";
import { randomBytes } from "../helpers/data.js";
import { Database } from "../fixtures/sqlite-live.js";

const CLI = resolve(__dirname, "../../dist/cli.js");

/** What promtool says of `text`: exit 0 and nothing printed when it parses and lints clean. */
function promtool(text: string): { status: number | null; output: string } {
  const run = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (run.error) throw new Error(`promtool could not run (${run.error.message}): install Debian's prometheus package (scripts/install-test-servers.sh)`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

function expectClean(text: string): void {
  expect(promtool(text), text).toEqual({ status: 0, output: "" });
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "backupper-metrics-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("promtool check metrics", () => {
  it("fails on what it should (a unit abbreviation, a counter without _total, a broken line), so a pass means something", () => {
    expect(promtool("# HELP x_ms x\n# TYPE x_ms gauge\nx_ms 1\n").status).not.toBe(0);
    expect(promtool("# HELP x x\n# TYPE x counter\nx 1\n").status).not.toBe(0);
    expect(promtool('x{a="b} 1\n').status).not.toBe(0);
  });

  it("passes on metrics() before any backup, after a success, after a failure, after a passed and a failed drill, with a hostile prefix", async () => {
    let fail = false;
    const source = streamSource(
      () =>
        new ReadableStream({
          start(c) {
            if (fail) return c.error(new Error("disk gone"));
            c.enqueue(randomBytes(5000));
            c.close();
          },
        }),
      { name: "queue" },
    );
    const adapter = memoryAdapter();
    const b = createBackupper({ adapter, source, prefix: 'odd "prefix"\\with\nlines/', retention: { last: 2, daily: 7, within: 3_600_000 } });
    expectClean(b.metrics());
    const info = await b.backup();
    expectClean(b.metrics());
    fail = true;
    await expect(b.backup()).rejects.toMatchObject({ code: "SOURCE" });
    expectClean(b.metrics());
    expect((await b.drill()).ok).toBe(true);
    expectClean(b.metrics());
    await adapter.put(info.key, new Uint8Array(info.compressedSize));
    expect((await b.drill()).ok).toBe(false);
    await expect(b.drill({ key: `${b.prefix}queue-2020-01-01T00-00-00-000Z-abcdef12.db.gz` })).rejects.toMatchObject({ code: "NOT_FOUND" });
    const text = b.metrics();
    expectClean(text);
    expect(text).toMatch(/backupper_failures_total\{[^}]*operation="drill",code="NOT_FOUND"\} 1/);
  });
});

describe("the bin's metrics", () => {
  function cli(args: string[], env: Record<string, string> = {}): Promise<BinResult> {
    return runBin(process.execPath, [CLI, "--dir", join(dir, "bucket"), ...args], { env });
  }

  function makeDb(path: string): void {
    const d = new Database(path);
    d.exec("CREATE TABLE jobs (id INTEGER PRIMARY KEY, body TEXT)");
    d.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) INSERT INTO jobs (body) SELECT hex(randomblob(50)) FROM n");
    d.close();
  }

  beforeEach(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build; npm test does it)`);
    makeDb(join(dir, "queue.db"));
  });

  it("status --prometheus passes before any backup, after a success, after a failure and after a drill; now and drill --textfile too", async () => {
    const db = join(dir, "queue.db");
    const prom = join(dir, "backupper.prom");
    const status = async () => {
      const r = await cli(["status", "--prometheus", "--source", db]);
      expect(r.code, r.stderr).toBe(0);
      expectClean(r.stdout);
      return r.stdout;
    };
    expect(await status()).toContain('backupper_backups{name="queue",prefix="backups/"} 0\n');

    expect((await cli(["now", "--source", db, "--textfile", prom])).code).toBe(0);
    expectClean(readFileSync(prom, "utf8"));
    expect(readFileSync(prom, "utf8")).toContain('backupper_last_backup_size_bytes{name="queue",prefix="backups/"} ');
    expect(await status()).toContain('backupper_backups{name="queue",prefix="backups/"} 1\n');

    // A failed backup: the source is gone. `now --textfile` tells of it; a later status lists what there is.
    const failed = await cli(["now", "--source", join(dir, "gone.db"), "--name", "queue", "--textfile", prom]);
    expect(failed.code).toBe(9);
    expectClean(readFileSync(prom, "utf8"));
    expect(readFileSync(prom, "utf8")).toContain('backupper_failures_total{name="queue",prefix="backups/",operation="backup",code="SOURCE"} 1\n');
    await status();

    const drill = await cli(["drill", "--source", db, "--textfile", prom], { BACKUP_DRILL_QUERY: "SELECT count(*) FROM jobs" });
    expect(drill.code, drill.stderr).toBe(0);
    expect(drill.stdout).toMatch(/^OK drill of backups\/queue-/);
    expect(drill.stdout).toContain("SELECT count(*) FROM jobs = 200");
    expectClean(readFileSync(prom, "utf8"));
    expect(readFileSync(prom, "utf8")).toContain('backupper_last_drill_success{name="queue",prefix="backups/"} 1\n');
    await status();

    expect(readdirSync(dir).sort()).toEqual(["backupper.prom", "bucket", "queue.db"]);
  });

  it("drill exits 4 with the failed check for a damaged backup, and says so in JSON", async () => {
    const db = join(dir, "queue.db");
    expect((await cli(["now", "--source", db, "--compression", "none"])).code).toBe(0);
    const root = join(dir, "bucket", "backups");
    const key = readdirSync(root).find((f) => f.endsWith(".db"))!;
    const bytes = readFileSync(join(root, key));
    bytes[bytes.length >> 1]! ^= 1;
    writeFileSync(join(root, key), bytes);
    const before = readFileSync(db);
    const text = await cli(["drill", `backups/${key}`, "--source", db]);
    expect(text.code).toBe(4);
    expect(text.stdout).toMatch(/^FAILED drill of backups\/queue-/);
    expect(text.stderr).toMatch(/CHECKSUM_MISMATCH/);
    const json = await cli(["drill", "--latest", "--json", "--source", db]);
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, key: `backups/${key}`, error: { code: "CHECKSUM_MISMATCH", exitCode: 4 }, checks: [{ name: "verify", ok: false }] });
    expect(readFileSync(db).equals(before)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["bucket", "queue.db"]);
  });

  it("run --textfile writes the metrics at start and after each backup and drill", async () => {
    const db = join(dir, "queue.db");
    const prom = join(dir, "backupper.prom");
    const child = spawn(process.execPath, [CLI, "run", "--dir", join(dir, "bucket"), "--source", db, "--initial-delay", "0", "--drill-interval", "1h", "--textfile", prom], {
      env: { PATH: process.env.PATH ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stdout.on("data", (c: Buffer) => (log += c.toString()));
    child.stderr.on("data", (c: Buffer) => (log += c.toString()));
    try {
      await expect.poll(() => (existsSync(prom) ? readFileSync(prom, "utf8") : ""), { timeout: 30_000, interval: 100 }).toContain("backupper_last_drill_success");
      const text = readFileSync(prom, "utf8");
      expectClean(text);
      expect(text).toContain('backupper_last_drill_success{name="queue",prefix="backups/"} 1\n');
      expect(text).toContain('backupper_backups{name="queue",prefix="backups/"} 1\n');
      expect(log).toMatch(/backup done: .*\n.*drill passed: /);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
});

describe("--textfile is replaced atomically", () => {
  it("each write renames a new file over the old one and leaves no temp file", async () => {
    const path = join(dir, "m.prom");
    const file = textfile(path);
    await file.write("a 1\n");
    const first = statSync(path).ino;
    await file.write("a 2\n");
    expect(readFileSync(path, "utf8")).toBe("a 2\n");
    // Written in place, the inode would stay; replaced by rename, it is a new file.
    expect(statSync(path).ino).not.toBe(first);
    expect(readdirSync(dir)).toEqual(["m.prom"]);
  });

  it("a reader in another process polling through 300 rewrites only ever sees a whole text", async () => {
    const path = join(dir, "m.prom");
    const texts = ["# short\nx 1\n", `# long\n${"y 2\n".repeat(200_000)}`];
    writeFileSync(path, texts[0]!);
    const expected = join(mkdtempSync(join(tmpdir(), "backupper-texts-")), "texts.json");
    writeFileSync(expected, JSON.stringify(texts));
    const reader = spawn(
      process.execPath,
      [
        "-e",
        `const fs = require("fs"); const ok = new Set(JSON.parse(fs.readFileSync(process.argv[2], "utf8"))); let reads = 0, torn = 0;
         const stop = Date.now() + 60000;
         process.stdin.on("data", () => { console.log(JSON.stringify({ reads, torn })); process.exit(0); });
         (function loop() { for (let i = 0; i < 20; i++) { reads++; if (!ok.has(fs.readFileSync(process.argv[1], "utf8"))) torn++; } if (Date.now() < stop) setImmediate(loop); })();`,
        path,
        expected,
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    let output = "";
    reader.stdout.on("data", (c: Buffer) => (output += c.toString()));
    const file = textfile(path);
    for (let i = 0; i < 300; i++) await file.write(texts[i % 2]!);
    reader.stdin.write("done\n");
    await new Promise((r) => reader.once("exit", r));
    const { reads, torn } = JSON.parse(output) as { reads: number; torn: number };
    rmSync(join(expected, ".."), { recursive: true, force: true });
    expect(reads).toBeGreaterThan(100);
    expect(torn).toBe(0);
    expect(readdirSync(dir)).toEqual(["m.prom"]);
  });

  it("is readable by others (0644) under a umask that is not: node_exporter reads it as a user of its own", async () => {
    const path = join(dir, "m.prom");
    const umask = process.umask(0o077);
    try {
      await textfile(path).write("a 1\n");
    } finally {
      process.umask(umask);
    }
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });

  it("a file that cannot be written is a TargetError naming it", async () => {
    const path = join(dir, "missing-dir", "m.prom");
    await expect(textfile(path).write("x 1\n")).rejects.toMatchObject({ code: "TARGET", target: path });
  });
});

describe("--textfile names a .prom file", () => {
  it("anything else is refused before the command runs: node_exporter would never read it", async () => {
    const r = spawnSync(process.execPath, [CLI, "status", "--dir", dir, "--name", "queue", "--textfile", join(dir, "metrics.txt")], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--textfile: must name a file ending in \.prom/);
  });
});
