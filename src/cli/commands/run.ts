/**
 * `backupper run`: the scheduler in the foreground, for a sidecar or a service manager. The
 * first SIGINT/SIGTERM lets a running backup finish, unless it is waiting for the storage to
 * come back (then, as on a second signal, it is aborted at once); either way the process exits 0
 * once nothing is running, so a restart policy sees a clean stop. `--textfile` keeps
 * node_exporter's metrics file fresh after each backup, failure and drill.
 */
import { ConfigError, messageOf } from "../../errors.js";
import { EXIT_CODES } from "../exit-codes.js";
import { sizes } from "../output.js";
import { reportRetries } from "../retries.js";
import { describeDestination, setUp } from "../setup.js";
import { textfile } from "../textfile.js";
import { formatDuration } from "../units.js";
import type { Command } from "./context.js";

export const run: Command = async ({ config, out, onSignal }) => {
  if (config.disabled) throw new ConfigError("S3_BACKUP_ENABLED", `backups are disabled: ${config.disabled}`);
  const stamp = () => new Date().toISOString();
  const log = (text: string) => out.line(`${stamp()} ${text}`);
  const file = config.textfile === undefined ? undefined : textfile(config.textfile);
  // After a backup's retention, a failure or a drill: what changes the metrics. A file that cannot be written is said, never fatal.
  const refresh = () => void file?.write(backupper.metrics()).catch((error: unknown) => out.warn(`${stamp()} ${messageOf(error)}`));
  const showRetry = reportRetries(out, config.json, () => `${stamp()} `);
  let waitingUntil = 0;
  let stopping = false;
  let aborted = false;
  const abortWaiting = () => {
    if (aborted) return;
    aborted = true;
    log("aborting the running backup: it is waiting for the storage to come back");
    void backupper.stop({ abort: true });
  };
  const { backupper, notifier } = await setUp(config, out, {
    started: (e) => log(`backup started: ${e.key}`),
    succeeded: (info) => log(`backup done: ${info.key}, ${sizes(info)}, ${formatDuration(info.durationMs ?? 0)}`),
    failed: (e) => {
      out.warn(`${stamp()} ${e.operation} failed${e.key ? ` (${e.key})` : ""}: ${e.error.code}: ${e.error.message}`);
      refresh();
    },
    pruned: (report) => {
      if (report.deleted.length > 0) log(`retention deleted ${report.deleted.map((d) => d.key).join(", ")}`);
      refresh();
    },
    drilled: (result) => {
      log(`drill passed: ${result.key}, ${result.checks.map((c) => c.name).join(", ")}, ${formatDuration(result.durationMs)}`);
      refresh();
    },
    skipped: (e) => log(e.reason === "lease-held" ? `scheduled backup skipped: ${e.error.message}` : "scheduled backup skipped: one is still running"),
    retrying: (notice) => {
      waitingUntil = Date.now() + notice.waitMs;
      showRetry(notice);
      // Asked to stop while the storage is down: a backup waiting on it would outlast any stop timeout.
      if (stopping) abortWaiting();
    },
  });
  refresh();
  const stopped = new Promise<void>((resolve) => {
    onSignal((second) => {
      if (second) {
        log("aborting the running backup");
        void backupper.stop({ abort: true });
        return;
      }
      stopping = true;
      const running = backupper.status().running;
      if (running && Date.now() < waitingUntil) abortWaiting();
      else log(`stopping${running ? ": waiting for the running backup (signal again to abort it)" : ""}`);
      void backupper.stop().then(resolve);
    });
  });
  backupper.start({ keepAlive: true });
  log(
    `backing up ${config.source} to ${describeDestination(config)}: first in ${formatDuration(config.initialDelay)}, ` +
      `then every ${formatDuration(config.interval)}, keeping ${config.retention}` +
      (config.drillInterval === undefined ? "" : `; a restore drill every ${formatDuration(config.drillInterval)}`),
  );
  await stopped;
  await notifier.idle();
  log("stopped");
  return EXIT_CODES.OK;
};
