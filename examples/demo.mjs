/**
 * The whole job end to end, with no account: a live job-queue SQLite database is backed up to a
 * local directory (the fs adapter: the same objects an S3 bucket would hold), listed, verified,
 * restored next to the original, and checked the way a user without this library would do it:
 * `gunzip` and `sha256sum`.
 *
 *   npm run demo
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createBackupper } from "../dist/index.js";
import { fsAdapter } from "../dist/fs.js";
import { sqliteSource } from "../dist/sqlite.js";

const dir = mkdtempSync(join(tmpdir(), "backupper-demo-"));
const dbPath = join(dir, "queue.db");
const bucket = join(dir, "bucket");
const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;

try {
  const db = new Database(dbPath);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE jobs (id INTEGER PRIMARY KEY, queue TEXT, state TEXT, payload TEXT, created_at INTEGER)");
  db.exec("CREATE INDEX jobs_queue_state ON jobs (queue, state)");
  const insert = db.prepare("INSERT INTO jobs (queue, state, payload, created_at) VALUES (?, ?, ?, ?)");
  db.transaction(() => {
    for (let i = 0; i < 100_000; i++) {
      insert.run(`queue-${i % 8}`, i % 5 ? "done" : "waiting", JSON.stringify({ to: `user${i}@example.com`, attempt: i % 3, body: "x".repeat(i % 200) }), Date.now() + i);
    }
  })();
  console.log(`1. created a live queue database: ${dbPath} (${mib(readFileSync(dbPath).byteLength)}, WAL mode)`);

  const backupper = createBackupper({
    adapter: fsAdapter({ root: bucket }),
    source: sqliteSource({ db, path: dbPath }),
    retention: 2,
    // Retention runs inside backup(), after the backup succeeded: printing from the events keeps the lines in that order.
    on: {
      succeeded: (info) => console.log(`2. backup ${++made}: ${info.key}  ${mib(info.size)} -> ${mib(info.compressedSize)} in ${info.durationMs} ms`),
      pruned: (r) => r.deleted.length && console.log(`   retention removed ${r.deleted.map((d) => d.key).join(", ")}`),
    },
  });

  let made = 0;
  for (let i = 0; i < 3; i++) {
    insert.run("queue-0", "waiting", JSON.stringify({ round: i }), Date.now());
    await backupper.backup();
  }

  const list = await backupper.list();
  console.log(`3. list (retention 2, newest first):\n${list.map((b) => `   ${b.key}  ${mib(b.size)}  sha256 ${b.checksum.slice(0, 16)}…`).join("\n")}`);

  const newest = list[0];
  const verified = await backupper.verify(newest.key);
  console.log(`4. verify: size and SHA-256 of ${verified.key} match its metadata`);

  const restoredPath = join(dir, "restored.db");
  const restored = await backupper.restore(newest.key, { to: restoredPath });
  const copy = new Database(restoredPath, { readonly: true });
  const rows = copy.prepare("SELECT count(*) AS n FROM jobs").get().n;
  const integrity = copy.pragma("integrity_check", { simple: true });
  copy.close();
  console.log(`5. restore to ${restoredPath}: ${mib(restored.size)}, ${rows} jobs, integrity_check: ${integrity}`);

  const file = join(bucket, newest.key);
  const meta = JSON.parse(readFileSync(`${file}.meta.json`, "utf8"));
  const byHand = execFileSync("sh", ["-c", 'gunzip -c "$1" | sha256sum', "sh", file], { encoding: "utf8" }).split(" ")[0];
  console.log(`6. by hand: gunzip -c ${newest.key} | sha256sum = ${byHand.slice(0, 16)}… ${byHand === meta.checksum ? "matches" : "DOES NOT MATCH"} the metadata`);
  db.close();
  if (byHand !== meta.checksum || integrity !== "ok") process.exitCode = 1;
  else console.log("demo complete: backup, list, verify, restore and a manual restore all agree");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
