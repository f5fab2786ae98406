// A Worker whose cron trigger streams an HTTP export (your queue server's database dump, say)
// into R2 through the S3 API, keeping the newest 28 backups (a week at 4 a day).
import { createBackupper, streamSource } from "backupper";
import { s3Adapter } from "backupper/s3";

export interface Env {
  R2_ACCOUNT_ID: string;
  R2_BUCKET: string;
  R2_ACCESS_KEY_ID: string;
  R2_SECRET_ACCESS_KEY: string;
  /** What to back up: fetched at each run, its body streamed to R2. */
  SOURCE_URL: string;
  /** Optional: sent as `Authorization: Bearer …` to SOURCE_URL. */
  SOURCE_TOKEN?: string;
  /** Optional: another S3 endpoint, e.g. https://<account>.eu.r2.cloudflarestorage.com for an EU bucket. */
  R2_ENDPOINT?: string;
}

function backupperFor(env: Env) {
  return createBackupper({
    adapter: s3Adapter({
      bucket: env.R2_BUCKET,
      region: "auto",
      endpoint: env.R2_ENDPOINT ?? `https://${env.R2_ACCOUNT_ID}.r2.cloudflarestorage.com`,
      accessKeyId: env.R2_ACCESS_KEY_ID,
      secretAccessKey: env.R2_SECRET_ACCESS_KEY,
      // R2 throttles parallel uploads to one object.
      concurrency: 2,
    }),
    source: streamSource(
      async () => {
        const headers: HeadersInit = env.SOURCE_TOKEN ? { authorization: `Bearer ${env.SOURCE_TOKEN}` } : {};
        const response = await fetch(env.SOURCE_URL, { headers });
        if (!response.ok || !response.body) throw new Error(`GET ${env.SOURCE_URL}: HTTP ${response.status}`);
        return response.body;
      },
      { name: "export" },
    ),
    retention: 28,
  });
}

export default {
  async scheduled(_controller, env) {
    const backup = await backupperFor(env).backup();
    console.log(`backed up ${backup.size} bytes to ${backup.key} (${backup.compressedSize} stored)`);
  },
} satisfies ExportedHandler<Env>;
