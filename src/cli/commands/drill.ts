/**
 * `backupper drill [<key> | --latest | --random]`: a restore test. The backup is restored into a
 * private temp directory and checked there (a SQLite database: header, integrity_check and
 * BACKUP_DRILL_QUERY), then removed; the source is never touched. Exit 0 when every check
 * passed, 4 when the backup is bad; a drill that could not run exits as its error says.
 */
import type { DrillResult } from "../../events.js";
import { EXIT_CODES } from "../exit-codes.js";
import type { Output } from "../output.js";
import { runOnce } from "../once.js";
import { formatBytes, formatDuration } from "../units.js";
import type { Command } from "./context.js";

export const drill: Command = async ({ config, out, signal }) => {
  const which = config.key === undefined ? { pick: config.pick ?? "latest" } : { key: config.key };
  const result = await runOnce(config, out, {}, (backupper) => backupper.drill({ ...which, signal }));
  if (config.json) {
    const { error, ...rest } = result;
    out.json({ ...rest, error: error ? { code: error.code, exitCode: EXIT_CODES.INTEGRITY, message: error.message } : null });
  } else {
    report(result, out);
  }
  return result.ok ? EXIT_CODES.OK : EXIT_CODES.INTEGRITY;
};

function report(result: DrillResult, out: Output): void {
  const size = result.size === undefined ? "" : `${formatBytes(result.size)}, `;
  out.line(`${result.ok ? "OK" : "FAILED"} drill of ${result.key} (${size}${formatDuration(result.durationMs)})`);
  const width = Math.max(...result.checks.map((c) => c.name.length));
  for (const check of result.checks) out.line(`  ${check.ok ? "ok    " : "FAILED"} ${check.name.padEnd(width)}  ${check.detail}`);
  if (result.error) out.warn(`backupper: drill failed: ${result.error.code}: ${result.error.message}`);
}
