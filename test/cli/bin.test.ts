/**
 * The real bin (`node dist/cli.js`) as a child process, against Ceph RGW (a fresh bucket) and a
 * local directory: every command, its exit codes, its JSON parsed back, and no output of any
 * run carrying the secret key.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3Adapter } from "../../src/adapters/s3.js";
import { runBin, type BinResult } from "../helpers/bin.js";
import { adapterOptions, createBucket, s3Env, s3Server, type S3TestServer } from "../helpers/s3.js";

const CLI = resolve(__dirname, "../../dist/cli.js");
const Database = createRequire(import.meta.url)("better-sqlite3") as new (path: string, opts?: { readonly?: boolean }) => {
  exec(sql: string): void;
  prepare(sql: string): { get(): Record<string, number> };
  close(): void;
};
const ROWS = 2000;

function rowCount(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT count(*) AS n FROM jobs").get().n!;
  } finally {
    db.close();
  }
}

/** Every output of every run, for the secret check at the end. */
const outputs: string[] = [];
const secrets: string[] = [];

async function cli(args: string[], env: Record<string, string>, cwd: string): Promise<BinResult> {
  const result = await runBin(process.execPath, [CLI, ...args], { env, cwd });
  outputs.push(result.stdout, result.stderr);
  return result;
}

function json<T = any>(result: BinResult): T {
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout) as T;
}

let work: string;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build; npm test does it)`);
  work = await mkdtemp(join(tmpdir(), "backupper-cli-"));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Destination {
  env: Record<string, string>;
  /** Flips a byte in the middle of a stored object. */
  corrupt(key: string): Promise<void>;
}

async function makeSqlite(path: string, rows: number): Promise<Buffer> {
  const db = new Database(path);
  db.exec("PRAGMA journal_mode = WAL; CREATE TABLE jobs (id INTEGER PRIMARY KEY, payload TEXT)");
  db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows}) INSERT INTO jobs (payload) SELECT hex(randomblob(64)) FROM n`);
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  return readFile(path);
}

/** The whole life of backups through the bin, on one destination. */
function lifecycle(label: string, destination: () => Promise<Destination>, sourceKind: "sqlite" | "file") {
  describe(label, () => {
    let dest: Destination;
    let dir: string;
    let source: string;
    let original: Buffer;
    let env: Record<string, string>;
    let key: string;
    let checksum: string;
    const run = (...args: string[]) => cli(args, env, dir);

    /** The file holds the backed-up bytes: the source itself, or for SQLite its consistent snapshot with every row. */
    async function expectRestored(path: string) {
      const bytes = await readFile(path);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(checksum);
      if (sourceKind === "file") expect(bytes.equals(original)).toBe(true);
      else expect(rowCount(path)).toBe(ROWS);
    }

    beforeAll(async () => {
      dest = await destination();
      dir = await mkdtemp(join(work, `${label.replace(/\W+/g, "-")}-`));
      source = join(dir, "queue.db");
      original = sourceKind === "sqlite" ? await makeSqlite(source, ROWS) : randomBytes(300_000);
      if (sourceKind === "file") await writeFile(source, original);
      env = { ...dest.env, BACKUP_SOURCE: source };
    });

    it("now --json backs up, and list --json shows it", async () => {
      const now = json(await run("now", "--json"));
      key = now.backup.key;
      checksum = now.backup.checksum;
      expect(key).toMatch(/^backups\/queue-\d{4}-.*\.db\.gz$/);
      if (sourceKind === "file") expect(now.backup.size).toBe(original.length);
      const list = json<any[]>(await run("list", "--json"));
      expect(list.map((b) => b.key)).toEqual([key]);
      expect(list[0]).toMatchObject({ verified: true, size: now.backup.size, checksum, name: "queue" });
      const human = await run("list");
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(key);
      expect(human.stdout).toMatch(/\d+(\.\d+)? KiB/);
    });

    it("verify checks it", async () => {
      const human = await run("verify", key);
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`OK ${key}`);
      expect(json(await run("verify", key, "--json"))).toMatchObject({ ok: true, key, checksum });
    });

    it("restore writes --to, refuses an existing target without -f (exit 5, untouched), replaces it with -f", async () => {
      const to = join(dir, "restored.db");
      const first = await run("restore", key, "--to", to);
      expect(first.code).toBe(0);
      await expectRestored(to);

      await writeFile(to, "keep me");
      const refused = await run("restore", key, "--to", to);
      expect(refused.code).toBe(5);
      expect(refused.stderr).toMatch(/exists.*\n.*--force/);
      expect(await readFile(to, "utf8")).toBe("keep me");

      const forced = await run("restore", key, "--to", to, "-f");
      expect(forced.code).toBe(0);
      await expectRestored(to);
      expect(await readdir(dir)).not.toContainEqual(expect.stringMatching(/restore-/));
    });

    it("restore over the source itself needs --force", async () => {
      expect((await run("restore", key)).code).toBe(5);
      expect(json(await run("restore", key, "--force", "--json"))).toMatchObject({ key, target: source, verified: true });
      await expectRestored(source);
    });

    it("a missing backup exits 3", async () => {
      const missing = key.replace(/\d{4}-\d\d-\d\dT/, "2001-01-01T");
      for (const args of [["restore", missing, "--to", join(dir, "never.db")], ["verify", missing]]) {
        const result = await run(...args);
        expect(result.code, result.stderr).toBe(3);
        expect(result.stderr).toContain("not found");
      }
      expect(existsSync(join(dir, "never.db"))).toBe(false);
    });

    it("status --json reports the newest backup; --max-age exits 8 when it is older", async () => {
      const status = json(await run("status", "--json"));
      expect(status).toMatchObject({ name: "queue", source, sourceKind, backups: 1, retention: 7, enabled: true, stale: null });
      expect(status.newest.key).toBe(key);
      expect(status.newest.ageMs).toBeGreaterThanOrEqual(0);
      const stale = await run("status", "--max-age", "1ms");
      expect(stale.code).toBe(8);
      expect(stale.stderr).toContain("STALE");
      expect(json(await run("status", "--max-age", "2d", "--json"))).toMatchObject({ stale: false, maxAge: 172_800_000 });
      const human = await run("status");
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/Newest +backups\/queue-.*(s|m) ago/);
    });

    it("prune --dry-run --json reports without deleting; prune deletes", async () => {
      for (const extra of [[], ["--compression-workers", "2"]]) expect((await run("now", ...extra)).code).toBe(0);
      for (const b of json<Array<{ key: string }>>(await run("list", "--json"))) expect((await run("verify", b.key)).code).toBe(0);
      const dry = json(await run("prune", "--dry-run", "--json", "--retention", "1"));
      expect(dry.dryRun).toBe(true);
      expect(dry.deleted).toHaveLength(2);
      expect(json<any[]>(await run("list", "--json"))).toHaveLength(3);
      const real = json(await run("prune", "--json", "--retention", "1"));
      expect(real.deleted.map((d: { key: string }) => d.key)).toEqual(dry.deleted.map((d: { key: string }) => d.key));
      const left = json<any[]>(await run("list", "--json"));
      expect(left).toHaveLength(1);
      key = left[0].key;
      checksum = left[0].checksum;
    });

    it("a corrupted backup fails verify and restore with exit 4, target untouched", async () => {
      await dest.corrupt(key);
      const verify = await run("verify", key, "--json");
      expect(verify.code).toBe(4);
      expect(JSON.parse(verify.stdout).error.code).toMatch(/CHECKSUM_MISMATCH|CORRUPT_DATA/);
      const to = join(dir, "target.db");
      await writeFile(to, "precious");
      const restore = await run("restore", key, "--to", to, "-f");
      expect(restore.code).toBe(4);
      expect(await readFile(to, "utf8")).toBe("precious");
      expect((await readdir(dir)).filter((f) => f.includes(".restore-"))).toEqual([]);
    });

    it("run backs up on schedule and exits 0 on SIGTERM", async () => {
      const child = spawn(process.execPath, [CLI, "run", "--initial-delay", "100ms", "--interval", "1h"], {
        env: { PATH: process.env.PATH ?? "", ...env },
        cwd: dir,
      });
      let stdout = "";
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
      await new Promise<void>((done, fail) => {
        child.stdout.on("data", (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes("backup done")) done();
        });
        void exited.then(() => fail(new Error(`run exited early:\n${stdout}\n${stderr}`)));
      });
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      outputs.push(stdout, stderr);
      expect(stdout).toMatch(/backup started: backups\/queue-/);
      expect(stdout).toMatch(/stopped\n$/);
      expect(stderr).toBe("");
      expect(json<any[]>(await run("list", "--json")).length).toBeGreaterThanOrEqual(2);
    });

    it("now exits 9 when the source cannot be read", async () => {
      const result = await run("now", "--source", join(dir, "absent.db"));
      expect(result.code).toBe(9);
      expect(result.stderr).toContain("absent.db");
    });
  });
}

let rgw: S3TestServer;
let bucket: string;

/** The seed's variables for the RGW bucket of these tests. */
function rgwEnv(): Record<string, string> {
  return { S3_BACKUP_ENABLED: "1", ...s3Env(rgw, bucket) };
}

async function rgwDestination(): Promise<Destination> {
  rgw = await s3Server("rgw");
  bucket = await createBucket(rgw);
  secrets.push(rgw.secretAccessKey);
  const adapter = s3Adapter(adapterOptions(rgw, bucket));
  return {
    env: rgwEnv(),
    async corrupt(key) {
      const got = await adapter.get(key);
      const bytes = new Uint8Array(await new Response(got!.body).arrayBuffer());
      bytes[bytes.length >> 1]! ^= 0xff;
      await adapter.put(key, bytes);
    },
  };
}

lifecycle("Ceph RGW", rgwDestination, "sqlite");

lifecycle(
  "--dir",
  async () => {
    const root = await mkdtemp(join(work, "store-"));
    return {
      env: { BACKUP_DIR: root },
      async corrupt(key) {
        const path = join(root, key);
        const bytes = await readFile(path);
        bytes[bytes.length >> 1]! ^= 0xff;
        await writeFile(path, bytes);
      },
    };
  },
  "file",
);

describe("configuration through the bin", () => {
  let env: Record<string, string>;
  beforeAll(() => {
    env = { ...rgwEnv(), BACKUP_SOURCE: join(work, "queue.db") };
  });

  const bad: Array<[string, string | undefined]> = [
    ["S3_BACKUP_ENABLED", "maybe"],
    ["S3_BUCKET", "Not A Bucket!"],
    ["S3_BUCKET", undefined],
    ["S3_REGION", " "],
    ["S3_ENDPOINT", "ftp://example.com"],
    ["S3_FORCE_PATH_STYLE", "perhaps"],
    ["S3_ACCESS_KEY_ID", undefined],
    ["S3_SECRET_ACCESS_KEY", undefined],
    ["S3_SESSION_TOKEN", " "],
    ["S3_BACKUP_INTERVAL", "soon"],
    ["S3_BACKUP_RETENTION", "abc"],
    ["S3_BACKUP_PREFIX", "/abs/"],
    ["BACKUP_NAME", "two words"],
    ["BACKUP_DIR", join(tmpdir(), "also-a-dir")],
  ];

  it("each bad variable exits 2 with a message naming it, before any command touches storage", async () => {
    const commands = [["now"], ["list"], ["restore", "k"]];
    const runs = bad.flatMap(([variable, value]) =>
      commands.map(async (command) => {
        const e = { ...env };
        if (value === undefined) delete e[variable];
        else e[variable] = value;
        const result = await cli(command, e, work);
        return { variable, command, ...result };
      }),
    );
    for (const r of await Promise.all(runs)) {
      expect(r.code, `${r.variable} ${r.command.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^backupper: ${r.variable}: `));
      expect(r.stdout).toBe("");
    }
  });

  it("now and run say backups are disabled (exit 2) unless S3_BACKUP_ENABLED is on", async () => {
    const { S3_BACKUP_ENABLED: _, ...unset } = env;
    for (const e of [unset, { ...env, S3_BACKUP_ENABLED: "0" }]) {
      for (const command of ["now", "run"]) {
        const result = await cli([command], e, work);
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/^backupper: S3_BACKUP_ENABLED: backups are disabled/);
      }
      expect((await cli(["list"], e, work)).code).toBe(0);
    }
  });

  it("wrong credentials are a storage error (exit 6) that does not repeat them", async () => {
    const wrong = "definitely-not-the-secret-4c7f9e";
    secrets.push(wrong);
    const result = await cli(["list", "--json"], { ...env, S3_SECRET_ACCESS_KEY: wrong }, work);
    expect(result.code).toBe(6);
    expect(JSON.parse(result.stdout).error.code).toBe("ADAPTER");
  });

  it("status masks the access key id and never shows the secret", async () => {
    const status = json(await cli(["status", "--json"], { ...env, S3_SESSION_TOKEN: "session-token-value-123" }, work));
    secrets.push("session-token-value-123");
    expect(status.destination).toMatchObject({ kind: "s3", bucket, accessKeyId: "back…est", sessionToken: true, credentialsFrom: "S3_*" });
    const human = await cli(["status"], env, work);
    expect(human.stdout).toContain("back…est");
    expect(human.stdout).not.toContain(rgw.accessKeyId);
  });

  it("help for each command documents its flags and the exit codes; bad usage exits 2", async () => {
    for (const command of ["now", "list", "restore", "verify", "status", "prune", "run"]) {
      const help = await cli([command, "--help"], {}, work);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: backupper ${command}`);
      expect(help.stdout).toContain("Exit codes:");
    }
    expect((await cli(["--version"], {}, work)).stdout).toMatch(/^backupper \d+\.\d+\.\d+\n$/);
    expect((await cli([], {}, work)).code).toBe(2);
    expect((await cli(["list", "--force"], env, work)).code).toBe(2);
  });
});

describe("secrets", () => {
  it("no output of any run contains a secret key or token, not even masked by the redactor", () => {
    expect(outputs.length).toBeGreaterThan(100);
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    for (const text of outputs) {
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toContain("***");
    }
  });
});
