/** `backupper prune [--dry-run]`: apply retention and remove stale incomplete uploads. */
import { EXIT_CODES } from "../exit-codes.js";
import { setUp } from "../setup.js";
import type { Command } from "./context.js";

export const prune: Command = async ({ config, out, signal }) => {
  const { backupper } = await setUp(config, out);
  const report = await backupper.prune({ dryRun: config.dryRun, signal });
  if (config.json) {
    out.json(report);
    return EXIT_CODES.OK;
  }
  const verb = config.dryRun ? "Would delete" : "Deleted";
  out.line(`${verb} ${report.deleted.length} of ${report.deleted.length + report.kept.length} backups (keep ${config.retention})`);
  for (const d of report.deleted) out.line(`  ${d.key}  (${d.reason})`);
  if (report.incomplete.length > 0) {
    out.line(`${verb} ${report.incomplete.length} incomplete object${report.incomplete.length === 1 ? "" : "s"}`);
    for (const key of report.incomplete) out.line(`  ${key}`);
  }
  return EXIT_CODES.OK;
};
