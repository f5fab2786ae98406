// A job-queue SQLite database of about `mib` MiB, as a queue server keeps it: jobs with JSON
// payloads and results, timestamps, states, and the indexes a scheduler queries. Deterministic
// (seeded), cached in bench/.data/queue-<mib>.db so repeated runs reuse it.
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { rng } from "../test/helpers/generate.mjs";

export const DATA_DIR = fileURLToPath(new URL("./.data/", import.meta.url));

const QUEUES = ["emails", "webhooks", "thumbnails", "billing", "reports", "search-index", "notifications", "exports"];
const STATES = ["completed", "completed", "completed", "completed", "failed", "waiting", "active", "delayed"];
const TEMPLATES = ["welcome", "reset-password", "invoice", "digest", "trial-ending", "receipt"];

function hex(next, bytes) {
  let s = "";
  for (let i = 0; i < bytes; i++) s += Math.floor(next() * 256).toString(16).padStart(2, "0");
  return s;
}

function job(next, id, now) {
  const queue = QUEUES[Math.floor(next() * QUEUES.length)];
  const state = STATES[Math.floor(next() * STATES.length)];
  const created = now - Math.floor(next() * 30 * 86_400_000);
  const user = Math.floor(next() * 1_000_000);
  const items = Array.from({ length: 1 + Math.floor(next() * 6) }, () => ({
    sku: `SKU-${Math.floor(next() * 100_000)}`,
    qty: 1 + Math.floor(next() * 5),
    price: Math.round(next() * 50_000) / 100,
  }));
  const payload = JSON.stringify({
    userId: user,
    email: `user${user}@example.com`,
    template: TEMPLATES[Math.floor(next() * TEMPLATES.length)],
    locale: next() < 0.7 ? "en-US" : "de-DE",
    items,
    traceId: hex(next, 16),
    idempotencyKey: hex(next, 12),
    createdBy: `svc-${queue}`,
  });
  const finished = state === "completed" || state === "failed";
  const result = finished
    ? JSON.stringify(
        state === "failed"
          ? { error: "ETIMEDOUT: upstream did not answer within 30000 ms", attempt: 1 + Math.floor(next() * 3), host: `worker-${Math.floor(next() * 16)}` }
          : { ok: true, messageId: hex(next, 10), durationMs: Math.floor(next() * 2000) },
      )
    : null;
  return [id, queue, state, Math.floor(next() * 10), payload, result, Math.floor(next() * 3), created, created + Math.floor(next() * 60_000), created + Math.floor(next() * 120_000), finished ? created + Math.floor(next() * 180_000) : null];
}

/** Path of a cached ~`mib` MiB queue database, generated on first use. */
export function queueDb(mib, log = () => {}) {
  mkdirSync(DATA_DIR, { recursive: true });
  const path = `${DATA_DIR}queue-${mib}.db`;
  if (existsSync(path)) return path;
  const tmp = `${path}.tmp`;
  rmSync(tmp, { force: true });
  log(`generating ${path}`);
  const db = new Database(tmp);
  db.pragma("journal_mode = OFF");
  db.pragma("synchronous = OFF");
  db.exec(`CREATE TABLE jobs (
    id INTEGER PRIMARY KEY, queue TEXT NOT NULL, state TEXT NOT NULL, priority INTEGER NOT NULL,
    payload TEXT NOT NULL, result TEXT, attempts INTEGER NOT NULL,
    created_at INTEGER NOT NULL, run_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, finished_at INTEGER);
  CREATE INDEX jobs_pick ON jobs (queue, state, priority DESC, run_at);
  CREATE INDEX jobs_state_updated ON jobs (state, updated_at);
  CREATE TABLE job_logs (job_id INTEGER NOT NULL, at INTEGER NOT NULL, line TEXT NOT NULL);
  CREATE INDEX job_logs_job ON job_logs (job_id, at);`);
  const insert = db.prepare("INSERT INTO jobs VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  const insertLog = db.prepare("INSERT INTO job_logs VALUES (?,?,?)");
  const next = rng(mib);
  const now = Date.UTC(2026, 10, 1);
  const batch = db.transaction((from, n) => {
    for (let id = from; id < from + n; id++) {
      const row = job(next, id, now);
      insert.run(row);
      if (next() < 0.3) insertLog.run(id, row[7], `${row[2]} after ${row[6]} attempts on worker-${Math.floor(next() * 16)}`);
    }
  });
  const target = mib * 1024 * 1024;
  const pageSize = db.pragma("page_size", { simple: true });
  for (let id = 1; db.pragma("page_count", { simple: true }) * pageSize < target; id += 20_000) batch(id, 20_000);
  db.close();
  renameSync(tmp, path);
  log(`generated ${path}: ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB`);
  return path;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const arg of process.argv.slice(2)) queueDb(Number(arg), console.log);
}
