// A tiny job-queue server on bun:sqlite that backs its database up to S3 on a schedule.
//
//   S3_BUCKET=my-backups S3_REGION=us-east-1 S3_ACCESS_KEY_ID=… S3_SECRET_ACCESS_KEY=… \
//   bun examples/bun-queue-server.ts
//
// Optional: S3_ENDPOINT (R2, MinIO, Spaces…), S3_BACKUP_INTERVAL (ms, default 6 h), QUEUE_DB
// (default queue.db), PORT (default 3000). curl -X POST localhost:3000/jobs -d '{"task":1}'
// enqueues, POST /jobs/next dequeues, GET /backups/status shows the last backup.
import { Database } from "bun:sqlite";
import { createBackupper } from "backupper";
import { s3Adapter } from "backupper/s3";
import { sqliteSource } from "backupper/sqlite";

const env = process.env;
const path = env.QUEUE_DB ?? "queue.db";
const db = new Database(path);
db.exec("PRAGMA journal_mode = WAL");
db.exec("CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, taken INTEGER NOT NULL DEFAULT 0)");
const enqueue = db.prepare("INSERT INTO jobs (payload) VALUES (?) RETURNING id");
const dequeue = db.prepare(
  "UPDATE jobs SET taken = 1 WHERE id = (SELECT id FROM jobs WHERE taken = 0 ORDER BY id LIMIT 1) RETURNING id, payload",
);

const interval = Number(env.S3_BACKUP_INTERVAL ?? 6 * 60 * 60 * 1000);
const backups = createBackupper({
  adapter: s3Adapter({
    bucket: env.S3_BUCKET!,
    region: env.S3_REGION ?? "us-east-1",
    endpoint: env.S3_ENDPOINT,
    accessKeyId: env.S3_ACCESS_KEY_ID,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY,
  }),
  // Snapshots go through the server's own handle: consistent while jobs keep arriving.
  source: sqliteSource({ db, path }),
  retention: 7,
  interval,
  initialDelay: Math.min(60_000, interval),
  on: {
    succeeded: (b) => console.log(`backup ${b.key}: ${b.size} bytes (${b.compressedSize} stored) in ${b.durationMs} ms`),
    failed: (f) => console.error(`backup failed: ${f.error.code} ${f.error.message}`),
  },
});
backups.start();

const server = Bun.serve({
  port: Number(env.PORT ?? 3000),
  routes: {
    "/jobs": { POST: async (req) => Response.json(enqueue.get(await req.text()), { status: 201 }) },
    "/jobs/next": { POST: () => Response.json(dequeue.get()) },
    "/backups/status": () => Response.json(backups.status()),
  },
});
console.log(`queue server on ${server.url}`);

// Let a running backup finish before the database closes.
async function shutdown() {
  server.stop();
  await backups.stop();
  db.close();
  process.exit(0);
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
