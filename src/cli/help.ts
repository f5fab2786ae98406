/** The `--help` texts: the reference for commands, flags, environment variables and exit codes. */
import type { CommandName } from "./args.js";
import { UNVERIFIED_EXTRA_MIB, UNVERIFIED_RATIO } from "../pipeline/read.js";
import { EXIT_CODES } from "./exit-codes.js";

const WORKERS =
  "--compression <c>    (BACKUP_COMPRESSION) gzip (default), zstd (faster; Node >= 22.15, Bun, Deno) or none\n" +
  "--compression-level <n>  (BACKUP_COMPRESSION_LEVEL) gzip 0-9 (default 6), zstd 1-19 (default 3)\n" +
  "--compression-workers <n>  (BACKUP_COMPRESSION_WORKERS) blocks compressed at once, default 1;\n" +
  "                     set it to the cores the backup may use (standard multi-member gzip, concatenated zstd frames)";

const RECIPIENT =
  "--recipient <age1…>  (BACKUP_AGE_RECIPIENTS) encrypt the backup to this age public key; repeatable";
const LEASE =
  "--lease              (BACKUP_LEASE=1) take the source's lease first: one writer per source across processes and hosts;\n" +
  "                     exit 7 when another process holds it (BACKUP_LEASE_TTL: how long it lasts unrenewed, default 2m)";

const IDENTITY =
  "--identity <file>    (BACKUP_AGE_IDENTITY_FILE) age identity file to decrypt an encrypted backup; repeatable";

const TEXTFILE =
  "--textfile <file.prom>  (BACKUP_TEXTFILE) write the metrics (Prometheus text format) there for node_exporter's\n" +
  "                     textfile collector, replaced atomically";

const USAGE: Record<CommandName, { usage: string; about: string; flags: string[] }> = {
  now: {
    usage: "backupper now [--compression <c>] [--compression-level <n>] [--compression-workers <n>] [--recipient <age1…>]... [--textfile <file.prom>] [--lease] [--json]",
    about: "Take a backup of the source now, then apply retention. Refused while backups are disabled.",
    flags: [WORKERS, RECIPIENT, `${TEXTFILE}, after the backup (failed or not)`, LEASE, "--json               print the backup (and the keys retention deleted) as JSON"],
  },
  list: {
    usage: "backupper list [--json]",
    about: "List the complete backups of this source, newest first. Backups without metadata, and keys dated in the future, are marked.",
    flags: ["--json               print an array of backups as JSON"],
  },
  restore: {
    usage: "backupper restore <key> [-f|--force] [--to <path>] [--allow-unverified] [--max-restore-bytes <size>] [--identity <file>]... [--json]",
    about:
      "Download a backup, verify its size and SHA-256 (and a SQLite database's header and integrity),\n" +
      "and only then replace the target atomically. The target is the source unless --to is given;\n" +
      "an existing target is replaced only with --force, and is untouched when anything fails.",
    flags: [
      "-f, --force          replace an existing target (a SQLite target's -wal/-shm/-journal are moved aside)",
      "--to <path>          restore there instead of over the source",
      "--allow-unverified   restore a backup without metadata (bunqueue's oldest format): no checksum to check",
      "--max-restore-bytes <size>  (BACKUP_MAX_RESTORE_BYTES) output cap of a backup without metadata, bytes or\n" +
        `                     512MiB, 10GiB; default ${UNVERIFIED_RATIO} × its stored size + ${UNVERIFIED_EXTRA_MIB} MiB, so a decompression bomb stops`,
      IDENTITY,
      "--json               print the result as JSON",
    ],
  },
  verify: {
    usage: "backupper verify <key> [--identity <file>]... [--json]",
    about:
      "Download a backup and check it end to end (stored and original SHA-256, sizes) without writing anything.\n" +
      "An encrypted backup records no SHA-256 of the original: it is decrypted (age authenticates every chunk) and decompressed instead.",
    flags: [IDENTITY, "--json               print the result as JSON"],
  },
  drill: {
    usage: "backupper drill [<key> | --latest | --random] [--identity <file>]... [--textfile <file.prom>] [--json]",
    about:
      "Restore test: download a backup, verify it end to end, restore it into a private temp directory (0700, next to\n" +
      "the source, or in the system temp directory without one) and check it there: a SQLite database gets its header,\n" +
      "PRAGMA integrity_check and BACKUP_DRILL_QUERY (e.g. SELECT count(*) FROM jobs, whose result is printed).\n" +
      "The copy is removed afterwards; the source is never touched. Exit 4 when a check fails.",
    flags: [
      "<key>                drill this backup",
      "--latest             the newest verified backup (the default)",
      "--random             a verified backup at random (keys dated in the future never)",
      IDENTITY,
      TEXTFILE,
      "--json               print the result and each check as JSON",
    ],
  },
  status: {
    usage: "backupper status [--max-age <duration>] [--prometheus] [--textfile <file.prom>] [--json]",
    about:
      "Show the configuration (credentials masked) and the backups: count against retention, the newest verified one and its age.\n" +
      "With --max-age, exit 8 when the newest verified backup (keys dated in the future ignored) is older than that, or there is none (for cron and monitoring).",
    flags: [
      "--max-age <duration> e.g. 26h, 90m, 2d, 1h30m, or milliseconds",
      "--prometheus         print the metrics in the Prometheus text format instead (a one-shot process knows the\n" +
        "                     listing; the last backup, failure and drill only in the process that ran them: use run --textfile)",
      TEXTFILE,
      "--json               print the status as JSON",
    ],
  },
  prune: {
    usage: "backupper prune [--dry-run] [--json]",
    about: "Apply retention (keep the newest N) and remove incomplete uploads older than an hour.",
    flags: ["--dry-run            only report what would be deleted", "--json               print the report as JSON"],
  },
  run: {
    usage:
      "backupper run [--initial-delay <duration>] [--drill-interval <duration>] [--compression <c>] [--compression-level <n>] [--compression-workers <n>] [--recipient <age1…>]... [--textfile <file.prom>] [--lease]",
    about:
      "Run the scheduler in the foreground: the first backup after the initial delay, then one every interval,\n" +
      "retention after each; a failed one is retried after 1, 2, 4 … min, never past the next (BACKUP_RETRY_FAILED=0:\n" +
      "wait for the next). SIGINT/SIGTERM: wait for a running backup, then exit 0; a second signal aborts it.\n" +
      "Refused while backups are disabled.",
    flags: [
      "--initial-delay <d>  delay before the first backup (default 1m); a run that finds the lease held is skipped",
      "--drill-interval <d> (BACKUP_DRILL_INTERVAL) a restore drill of the newest backup every <d>, the first after the\n" +
        "                     initial delay; never at the same time as a backup (default: none)",
      WORKERS,
      RECIPIENT,
      `${TEXTFILE}, at start and after each backup, failure and drill`,
      LEASE,
    ],
  },
};

const COMMON = `What and where (flags override the variables):
  --source <path>      BACKUP_SOURCE         the file or SQLite database (detected by its header) to back up,
                                             and where restore writes by default
  --name <name>        BACKUP_NAME           the NAME in NAME-<timestamp>-<id>.db.gz (default: the source's file
                                             name without extension)
  --dir <path>         BACKUP_DIR            keep backups in a local directory instead of S3 (no account needed)
  --prefix <prefix>    S3_BACKUP_PREFIX      key prefix (default backups/)
  --retention <n>      S3_BACKUP_RETENTION   backups to keep (default 7)
  --interval <d>       S3_BACKUP_INTERVAL    time between scheduled backups, ms or 30m/6h/2d (default 21600000 = 6h)
  -h, --help                                 help for the command`;

const ENVIRONMENT = `S3 (when no --dir / BACKUP_DIR is given):
  S3_BACKUP_ENABLED      1/true/yes/on or 0/false/no/off. now and run refuse to back up unless it is on;
                         0 also disables them with --dir. Other commands work either way.
  S3_BUCKET              bucket (required)
  S3_ACCESS_KEY_ID       access key (or AWS_ACCESS_KEY_ID)
  S3_SECRET_ACCESS_KEY   secret key (or AWS_SECRET_ACCESS_KEY; the pair is taken from one family)
  S3_SESSION_TOKEN       session token of temporary credentials (or AWS_SESSION_TOKEN)
  S3_REGION              signing region (or AWS_REGION, AWS_DEFAULT_REGION; default us-east-1, auto on R2)
  S3_ENDPOINT            server URL for R2, MinIO, Spaces, Ceph (or AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL)
  S3_FORCE_PATH_STYLE    1/0; default 1 with a custom endpoint, 0 on AWS
  S3_RETRY_FOR           how long a failing storage request is retried (ms or 30s, 5m, 1h; default 5m, 0: no retries)
Encryption (age; a backup is encrypted when recipients or a passphrase are given):
  BACKUP_AGE_RECIPIENTS       age public keys (age1…), separated by commas or spaces
  BACKUP_AGE_RECIPIENTS_FILE  an age recipients file: one key a line, # comments
  BACKUP_AGE_IDENTITY_FILE    an age identity file (age-keygen's), to restore and verify
  BACKUP_PASSPHRASE           passphrase (scrypt) to encrypt and decrypt with (or BACKUP_PASSPHRASE_FILE: its first line)
Drills:
  BACKUP_DRILL_QUERY     SQL run on a drill's restored SQLite copy (read-only), its first value reported
Lease (one writer per source):
  BACKUP_LEASE           1/0: take the lease object <prefix><name>.lease before each backup (as --lease)
  BACKUP_LEASE_TTL       how long a lease lasts unrenewed, e.g. 2m (default), 30s; renewed every third of it
Alerts:
  BACKUP_NOTIFY_URL      webhook or healthchecks.io ping URL (a secret: never printed) to POST a JSON alert to
  BACKUP_NOTIFY_ON       which of success, failure, drill-failure, stale (commas or spaces); default failure,
                         drill-failure, stale (and success for a ping URL). stale: sent by status --max-age
  BACKUP_NOTIFY_STYLE    ping (success to <url>, the rest to <url>/fail) or webhook; default ping on hc-ping.com
An empty variable counts as unset; an invalid value is an error naming it.`;

const EXIT_TEXT: Record<keyof typeof EXIT_CODES, string> = {
  OK: "success",
  UNEXPECTED: "unexpected error",
  USAGE: "usage or configuration error, or backups disabled",
  NOT_FOUND: "backup not found",
  INTEGRITY: "integrity failure: checksum mismatch, corrupt data, invalid or missing metadata; or no key decrypts it; or a drill check failed",
  TARGET_EXISTS: "restore target exists (use --force)",
  STORAGE: "storage error (S3 or directory: unreachable, denied, missing bucket)",
  IN_PROGRESS: "a backup is already running, or another process holds the lease (--lease)",
  STALE: "status --max-age: newest verified backup too old, or none",
  SOURCE: "the source cannot be read, or the restore target cannot be written",
  INTERRUPTED: "interrupted by SIGINT/SIGTERM",
};

function exitCodes(): string {
  const rows = Object.entries(EXIT_CODES).map(([name, code]) => `  ${String(code).padStart(3)}  ${EXIT_TEXT[name as keyof typeof EXIT_CODES]}`);
  return `Exit codes:\n${rows.join("\n")}`;
}

export function helpText(command: CommandName | undefined): string {
  if (command !== undefined) {
    const c = USAGE[command];
    return `Usage: ${c.usage}\n\n${c.about}\n\n${c.flags.join("\n")}\n\n${COMMON}\n\n${ENVIRONMENT}\n\n${exitCodes()}\n`;
  }
  const commands = Object.values(USAGE).map((c) => `  ${c.usage}`);
  return (
    "backupper: verified, streaming backups of a file or SQLite database to S3 or a directory\n\n" +
    `Commands:\n${commands.join("\n")}\n  backupper help [command] | <command> --help | --version\n\n` +
    `${COMMON}\n\n${ENVIRONMENT}\n\n${exitCodes()}\n`
  );
}
