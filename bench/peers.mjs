// The cases of issue 10: backupper as a user runs it (the built CLI, `backupper now --source
// queue.db`, a SQLite source) against restic and the AWS CLI on the same RGW. Every command runs
// under GNU time, so each peak RSS is that of the largest process of the command. What a case
// needs before its timed command (a fresh restic repository, the key to restore) is done before
// the clock starts; what it leaves and nothing reads later is deleted after it stops, so the
// gateway's memstore holds one copy of each backup at most.
//   spec: { case, db, work, compression?, workers?, node24?, plain?, keep? }
// Env: S3_* as for bench/case.mjs, and BENCH_NODE24, the Node 24 binary (native zstd).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, openSync, rmSync, writeSync, closeSync } from "node:fs";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const AWS = "/usr/bin/aws";
const RESTIC = "restic";

const quote = (text) => `'${String(text).replaceAll("'", "'\\''")}'`;

/** The database's bytes as a plain file: the same size, the SQLite header's first byte changed, so the CLI backs it up as a file. */
export function plainCopy(db, work) {
  const path = `${work}/plain.bin`;
  if (!existsSync(path)) {
    copyFileSync(db, path);
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.from("X"), 0, 1, 0);
    closeSync(fd);
  }
  return path;
}

/** Cases keyed by name, for bench/case.mjs; `shell(script)` times a bash script under GNU time. */
export function peerCases({ spec, db, work, shell }) {
  const env = process.env;
  const awsEnv = {
    ...env,
    AWS_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY,
    AWS_DEFAULT_REGION: env.S3_REGION,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
  const s3url = (path) => `s3://${env.S3_BUCKET}/${path}`;
  const aws = `${AWS} --endpoint-url ${quote(env.S3_ENDPOINT)} s3`;
  const run = (script, extra = {}) => {
    const r = spawnSync("bash", ["-o", "pipefail", "-c", script], { encoding: "utf8", env: { ...awsEnv, ...extra } });
    if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`);
    return r.stdout;
  };
  const removeAll = (prefix) => run(`${aws} rm --recursive --quiet ${quote(s3url(prefix))}`);
  const node = spec.node24 ? env.BENCH_NODE24 : process.execPath;
  const cliEnv = { S3_BACKUP_ENABLED: "1", S3_BACKUP_RETENTION: "1" };
  const prefix = `bench-cli-${spec.compression ?? "gzip"}-w${spec.workers ?? 1}${spec.plain ? "-plain" : ""}/`;
  const cli = (args) => `${quote(node)} ${quote(CLI)} ${args} --name queue --prefix ${quote(prefix)}`;

  const restic = {
    RESTIC_PASSWORD: "bench",
    RESTIC_REPOSITORY: `s3:${env.S3_ENDPOINT}/${env.S3_BUCKET}/bench-restic`,
    RESTIC_CACHE_DIR: `${work}/restic-cache`,
  };

  return {
    async "cli-backup"() {
      const source = spec.plain ? plainCopy(db, work) : db;
      const flags = [`--source ${quote(source)}`, `--compression ${spec.compression ?? "gzip"}`];
      if (spec.workers) flags.push(`--compression-workers ${spec.workers}`);
      const result = shell(`${cli(`now ${flags.join(" ")}`)} > /dev/null`, { ...awsEnv, ...cliEnv });
      if (!spec.keep) removeAll(prefix);
      return result;
    },
    async "cli-restore"() {
      const [newest] = JSON.parse(run(cli("list --json"), cliEnv));
      if (!newest) throw new Error(`no backup under ${prefix} to restore: run cli-backup with keep first`);
      rmSync(`${work}/cli-restored.db`, { force: true });
      return shell(`${cli(`restore ${quote(newest.key)} --to ${quote(`${work}/cli-restored.db`)} --force`)} > /dev/null`, { ...awsEnv, ...cliEnv });
    },

    // restic 0.14 (zstd auto, encrypted): a fresh repository each run, as the issue measured it.
    async "restic-backup"() {
      removeAll("bench-restic/");
      rmSync(restic.RESTIC_CACHE_DIR, { recursive: true, force: true });
      run(`${RESTIC} init --quiet`, restic);
      return shell(`${RESTIC} backup --quiet --stdin --stdin-filename queue.db < ${quote(db)}`, { ...awsEnv, ...restic });
    },
    async "restic-restore"() {
      // Written to a file and flushed, as `backupper restore` writes its target.
      const out = `${work}/restic-restored.db`;
      return shell(`${RESTIC} dump --quiet latest /queue.db > ${quote(out)} && sync ${quote(out)}`, { ...awsEnv, ...restic });
    },

    // The shell pipelines a user could write instead.
    async "gzip-aws-backup"() {
      const result = shell(`gzip -6 -c < ${quote(db)} | ${aws} cp --quiet - ${quote(s3url("bench-shell/queue.db.gz"))}`, awsEnv);
      removeAll("bench-shell/");
      return result;
    },
    async "zstd-aws-backup"() {
      const result = shell(`zstd -3 -q -c < ${quote(db)} | ${aws} cp --quiet - ${quote(s3url("bench-shell/queue.db.zst"))}`, awsEnv);
      removeAll("bench-shell/");
      return result;
    },
    async "aws-raw-backup"() {
      const result = shell(`${aws} cp --quiet ${quote(db)} ${quote(s3url("bench-shell/queue.db"))}`, awsEnv);
      removeAll("bench-shell/");
      return result;
    },
  };
}
