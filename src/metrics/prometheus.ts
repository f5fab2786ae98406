/**
 * `metrics()`: the status as Prometheus text exposition format 0.0.4, the format node_exporter's
 * textfile collector and every scraper read. Names follow Prometheus conventions (base units in
 * the name, `_total` only on counters) so `promtool check metrics` finds nothing to lint. Every
 * sample carries the backup's `name` and `prefix`, so several backuppers can share one scrape.
 * A family with no sample yet (no failure, no drill) is left out rather than reported as zero:
 * "never happened" and "happened at time 0" must not look alike.
 */
import type { RetentionPolicy } from "../retention/policy.js";
import type { BackupStatus } from "../status.js";

type Labels = Record<string, string>;
type Sample = { labels?: Labels; value: number };

interface Family {
  name: string;
  type: "gauge" | "counter";
  help: string;
  samples: Sample[];
}

/** `\`, `"` and line feeds escaped, as the format requires inside a label value. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

const seconds = (time: Date) => time.getTime() / 1000;
const one = (value: number | undefined): Sample[] => (value === undefined ? [] : [{ value }]);

function families(status: BackupStatus, retention: RetentionPolicy): Family[] {
  const { lastSuccess, lastFailure, lastDrill } = status;
  const gauge = (name: string, help: string, samples: Sample[]): Family => ({ name, type: "gauge", help, samples });
  return [
    gauge("backupper_last_success_timestamp_seconds", "When the last successful backup ended.", one(lastSuccess && seconds(lastSuccess.time))),
    gauge("backupper_last_failure_timestamp_seconds", "When the last failed backup ended.", one(lastFailure && seconds(lastFailure.time))),
    gauge("backupper_last_backup_duration_seconds", "How long the last successful backup took.", one(lastSuccess && lastSuccess.durationMs / 1000)),
    gauge("backupper_last_backup_size_bytes", "Original size of the last successful backup.", one(lastSuccess?.size)),
    gauge("backupper_last_backup_stored_bytes", "Stored size of the last successful backup.", one(lastSuccess?.compressedSize)),
    gauge("backupper_backups", "Complete backups as of the last listing.", one(status.backups)),
    gauge("backupper_future_dated_backups", "Backups dated in the future, as of the last listing.", one(status.futureDated)),
    gauge("backupper_newest_backup_timestamp_seconds", "Time in the key of the newest verified backup, as of the last listing.", one(status.newestVerified && seconds(status.newestVerified.timestamp))),
    gauge(
      "backupper_retention_keep",
      "What each retention rule keeps (last: backups; within: seconds; others: periods).",
      Object.entries(retention)
        .filter(([, value]) => value !== undefined && value > 0)
        .map(([rule, value]) => ({ labels: { rule }, value: rule === "within" ? value / 1000 : value })),
    ),
    gauge("backupper_backup_running", "1 while a backup runs.", [{ value: status.running ? 1 : 0 }]),
    gauge("backupper_last_drill_timestamp_seconds", "When the last restore drill ended.", one(lastDrill && seconds(lastDrill.time))),
    gauge("backupper_last_drill_success", "1 when the last restore drill passed, 0 when it failed.", one(lastDrill && (lastDrill.ok ? 1 : 0))),
    gauge("backupper_last_drill_duration_seconds", "How long the last restore drill took.", one(lastDrill && lastDrill.durationMs / 1000)),
    {
      name: "backupper_failures_total",
      type: "counter",
      help: "Failed backups, prunes and drills, by error code.",
      samples: status.failures.map((f) => ({ labels: { operation: f.operation, code: f.code }, value: f.count })),
    },
  ];
}

/** The status in Prometheus text format 0.0.4, ending in a line feed. */
export function prometheusText(status: BackupStatus, retention: RetentionPolicy): string {
  const common: Labels = { name: status.name, prefix: status.prefix };
  const lines: string[] = [];
  for (const family of families(status, retention)) {
    if (family.samples.length === 0) continue;
    // The HELP texts are constants without a backslash or line feed, the two characters HELP would escape.
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries({ ...common, ...sample.labels }).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
      // Every value is a finite count, size, duration or time: JavaScript's number form is Go's float form for those.
      lines.push(`${family.name}{${labels.join(",")}} ${sample.value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The media type of `prometheusText`, for an HTTP endpoint serving it. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
