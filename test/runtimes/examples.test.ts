/**
 * Smoke tests of examples/ as users run them, against Ceph RGW: the Node script, the Deno
 * script, the Bun queue server (its scheduler takes the backups) and the Cloudflare Worker
 * (Miniflare fires its cron handler). Each backup is then restored here and checked.
 */
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterEach, beforeEach, expect } from "vitest";
import { s3Adapter } from "../../src/adapters/s3.js";
import { bytesTarget, createBackupper, type BackupInfo } from "../../src/index.js";
import { sqliteSource } from "../../src/sqlite.js";
import { streamSource } from "../../src/sources/memory.js";
import { Database } from "../fixtures/sqlite-live.js";
import { adapterOptions, rgwDescribe } from "../helpers/s3.js";
// @ts-expect-error: a plain .mjs helper shared with children/workerd.mjs, without types.
import { startWorker } from "./children/miniflare.mjs";
import { rgwBucket, type RgwBucket } from "./rgw-env.js";
import { ROOT as root, runtime } from "./runtimes.js";
import { itOn } from "./skip.js";

const example = (path: string) => join(root, "examples", path);
const run = promisify(execFile);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "backupper-examples-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A database with `rows` rows in `jobs`. */
function makeDatabase(path: string, rows: number): void {
  const db = new Database(path);
  db.exec("PRAGMA journal_mode = WAL; CREATE TABLE jobs (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO jobs (payload) VALUES (?)");
  db.exec("BEGIN");
  for (let i = 0; i < rows; i++) insert.run(`job ${i}`);
  db.exec("COMMIT");
  db.close();
}

/** The newest backup named `name` in the bucket. */
async function newest(rgw: RgwBucket, name: string): Promise<{ info: BackupInfo; backupper: ReturnType<typeof createBackupper> }> {
  const adapter = s3Adapter(adapterOptions(rgw.server, rgw.bucket));
  const backupper = createBackupper({ adapter, source: streamSource(() => new Blob([]).stream(), { name }) });
  const [info] = await backupper.list();
  expect(info, `no backup named ${name} in the bucket`).toBeDefined();
  return { info: info!, backupper };
}

/** Restores the newest backup of the database at `path` beside it; its integrity_check result and row count. */
async function restoredDatabase(rgw: RgwBucket, path: string): Promise<{ key: string; integrity: string; rows: number }> {
  const adapter = s3Adapter(adapterOptions(rgw.server, rgw.bucket));
  const backupper = createBackupper({ adapter, source: sqliteSource({ path }) });
  const [info] = await backupper.list();
  expect(info, `no backup of ${path} in the bucket`).toBeDefined();
  const restored = join(dir, "restored.db");
  await backupper.restore(info!.key, { to: restored });
  const db = new Database(restored, { readonly: true });
  try {
    const integrity = (db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
    const { n } = db.prepare("SELECT count(*) AS n FROM jobs").get() as { n: number };
    return { key: info!.key, integrity, rows: n };
  } finally {
    db.close();
  }
}

const describeRgw = rgwDescribe("examples");

describeRgw("examples against Ceph RGW", () => {
  itOn(runtime("node"))("node-better-sqlite3.mjs (the machine's Node): backs up and verifies a SQLite database", async () => {
    const rgw = await rgwBucket();
    const db = join(dir, "app.db");
    makeDatabase(db, 1000);
    const { stdout } = await run(process.execPath, [example("node-better-sqlite3.mjs"), db], { cwd: dir, env: rgw.env });
    const restored = await restoredDatabase(rgw, db);
    expect(stdout).toContain(`to ${restored.key}:`);
    expect(stdout).toMatch(/verified: sha256 [0-9a-f]{64}/);
    expect(restored).toMatchObject({ integrity: "ok", rows: 1000 });
  });

  itOn(runtime("deno"))("deno-backup.ts (Deno): backs up a SQLite database and lists the bucket", async () => {
    const rgw = await rgwBucket();
    const db = join(dir, "queue.db");
    makeDatabase(db, 500);
    const { stdout } = await run(runtime("deno").binary, ["run", "-A", example("deno-backup.ts"), db], { cwd: dir, env: rgw.env });
    const restored = await restoredDatabase(rgw, db);
    expect(stdout).toContain(`to ${restored.key} (`);
    expect(stdout.trim().split("\n").at(-1)).toMatch(new RegExp(`\\s\\d+\\s+${restored.key}$`));
    expect(restored).toMatchObject({ integrity: "ok", rows: 500 });
  });

  itOn(runtime("bun"))("bun-queue-server.ts (Bun): the scheduler backs up jobs taken over HTTP; SIGTERM exits 0", async () => {
    const rgw = await rgwBucket();
    const db = join(dir, "queue.db");
    const server = spawn(runtime("bun").binary, [example("bun-queue-server.ts")], {
      cwd: dir,
      env: { ...rgw.env, QUEUE_DB: db, PORT: "0", S3_BACKUP_INTERVAL: "1000" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = once(server, "exit");
    try {
      const lines = createInterface({ input: server.stdout });
      const [first] = (await once(lines, "line")) as [string];
      const url = /on (http:\S+)/.exec(first)?.[1];
      expect(url, first).toBeDefined();
      for (let i = 0; i < 5; i++) expect((await fetch(`${url}jobs`, { method: "POST", body: `{"n":${i}}` })).status).toBe(201);
      expect(await (await fetch(`${url}jobs/next`, { method: "POST" })).json()).toEqual({ id: 1, payload: '{"n":0}' });
      const posted = Date.now();
      // The scheduler backs up every second: wait for one that started after the jobs were in.
      for (;;) {
        const { lastSuccess } = (await (await fetch(`${url}backups/status`)).json()) as { lastSuccess?: { key: string } };
        if (lastSuccess && (await newest(rgw, "queue")).info.timestamp.getTime() > posted) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      server.kill("SIGTERM");
      expect((await exited)[0]).toBe(0);
    } finally {
      if (server.exitCode === null) server.kill("SIGKILL");
    }
    const restored = await restoredDatabase(rgw, db);
    expect(restored).toMatchObject({ integrity: "ok", rows: 5 });
  });

  itOn(runtime("workerd-compat"))("cloudflare-worker (workerd, wrangler.toml's flags): the cron handler streams SOURCE_URL into the bucket", async () => {
    const rgw = await rgwBucket();
    const body = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
    const origin = createServer((_req, res) => res.end(body)).listen(0, "127.0.0.1");
    await once(origin, "listening");
    const toml = readFileSync(example("cloudflare-worker/wrangler.toml"), "utf8");
    const mf = await startWorker(example("cloudflare-worker/src/index.ts"), {
      nodejsCompat: /^compatibility_flags = \[.*"nodejs_compat".*\]/m.test(toml),
      bindings: {
        R2_ACCOUNT_ID: "unused",
        R2_ENDPOINT: rgw.server.endpoint,
        R2_BUCKET: rgw.bucket,
        R2_ACCESS_KEY_ID: rgw.server.accessKeyId,
        R2_SECRET_ACCESS_KEY: rgw.server.secretAccessKey,
        SOURCE_URL: `http://127.0.0.1:${(origin.address() as AddressInfo).port}/export`,
      },
    });
    try {
      const worker = await mf.getWorker();
      expect(await worker.scheduled({ cron: "0 */6 * * *" })).toMatchObject({ outcome: "ok" });
    } finally {
      await mf.dispose();
      origin.close();
    }
    const { info, backupper } = await newest(rgw, "export");
    expect(info.checksum).toBe(createHash("sha256").update(body).digest("hex"));
    const target = bytesTarget();
    await backupper.restore(info.key, { to: target });
    expect(Buffer.from(target.bytes!).equals(Buffer.from(body))).toBe(true);
  });
});
