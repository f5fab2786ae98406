// Back up a SQLite database to S3 from Deno, then list what the bucket holds for it.
// Add the package with `deno add npm:backupper`.
//
//   S3_BUCKET=my-backups S3_REGION=us-east-1 S3_ACCESS_KEY_ID=… S3_SECRET_ACCESS_KEY=… \
//   deno run -A examples/deno-backup.ts data/queue.db
//
// -A because Deno's node:sqlite allows `VACUUM INTO` (the snapshot) only with every permission.
// A plain file needs no more than --allow-net=<S3 host> --allow-env --allow-read: use
// `fileSource(path)` from "backupper/fs" instead of sqliteSource.
import { createBackupper } from "backupper";
import { s3Adapter } from "backupper/s3";
import { sqliteSource } from "backupper/sqlite";

const [path = "queue.db"] = Deno.args;
const env = (name: string) => Deno.env.get(name);

const backupper = createBackupper({
  adapter: s3Adapter({
    bucket: env("S3_BUCKET")!,
    region: env("S3_REGION") ?? "us-east-1",
    endpoint: env("S3_ENDPOINT"),
    accessKeyId: env("S3_ACCESS_KEY_ID"),
    secretAccessKey: env("S3_SECRET_ACCESS_KEY"),
  }),
  source: sqliteSource({ path }),
  retention: 7,
});

const backup = await backupper.backup();
console.log(`backed up ${path} to ${backup.key} (${backup.compressedSize} bytes stored)`);
for (const b of await backupper.list()) {
  console.log(`${b.timestamp.toISOString()}  ${String(b.size).padStart(12)}  ${b.key}`);
}
