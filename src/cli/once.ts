/**
 * The one operation of `now` and `drill`: run on a backupper set up from the configuration, with
 * the progress line on a terminal, the metrics written to `--textfile` whatever the outcome, and
 * the alerts of that outcome delivered (or given up) before it settles: the process exits next.
 */
import type { Backupper } from "../backupper.js";
import type { BackupHooks } from "../events.js";
import type { CliConfig } from "./config.js";
import type { Output } from "./output.js";
import { setUp } from "./setup.js";
import { thenWriteMetrics } from "./textfile.js";

export async function runOnce<T>(config: CliConfig, out: Output, on: BackupHooks, operation: (backupper: Backupper) => Promise<T>): Promise<T> {
  const { backupper, notifier } = await setUp(config, out, on);
  const stopProgress = config.json ? () => undefined : out.progress(backupper);
  return thenWriteMetrics(config.textfile, backupper.metrics, out.warn, () => operation(backupper).finally(stopProgress)).finally(() => notifier.idle());
}
