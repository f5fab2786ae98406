// Back up a live SQLite database to S3 from Node with better-sqlite3, then prove the backup
// restores by downloading and checking it. Run it from cron, or call the same code in your app
// with the handle it already has open.
//
//   S3_BUCKET=my-backups S3_REGION=us-east-1 S3_ACCESS_KEY_ID=… S3_SECRET_ACCESS_KEY=… \
//   node examples/node-better-sqlite3.mjs app.db
//
// Optional: S3_ENDPOINT (R2, MinIO, Spaces…), S3_BACKUP_PREFIX (default backups/).
import Database from "better-sqlite3";
import { createBackupper } from "backupper";
import { s3Adapter } from "backupper/s3";
import { sqliteSource } from "backupper/sqlite";

const path = process.argv[2] ?? "app.db";
const db = new Database(path, { fileMustExist: true });

const backupper = createBackupper({
  adapter: s3Adapter({
    bucket: process.env.S3_BUCKET,
    region: process.env.S3_REGION ?? "us-east-1",
    endpoint: process.env.S3_ENDPOINT,
    accessKeyId: process.env.S3_ACCESS_KEY_ID,
    secretAccessKey: process.env.S3_SECRET_ACCESS_KEY,
  }),
  source: sqliteSource({ db, path }),
  prefix: process.env.S3_BACKUP_PREFIX,
  retention: 7,
});

try {
  const backup = await backupper.backup();
  console.log(`backed up ${path} to ${backup.key}: ${backup.size} bytes, ${backup.compressedSize} stored`);
  const verified = await backupper.verify(backup.key);
  console.log(`verified: sha256 ${verified.checksum}`);
} finally {
  db.close();
}
