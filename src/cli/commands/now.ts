/** `backupper now`: one backup, then retention, as the seed's `backup now`; `--textfile` writes the metrics after it, failed or not. */
import { ConfigError } from "../../errors.js";
import type { PruneReport } from "../../events.js";
import { EXIT_CODES } from "../exit-codes.js";
import { infoJson, sizes } from "../output.js";
import { runOnce } from "../once.js";
import { describeDestination } from "../setup.js";
import { formatDuration } from "../units.js";
import type { Command } from "./context.js";

export const now: Command = async ({ config, out, signal }) => {
  if (config.disabled) throw new ConfigError("S3_BACKUP_ENABLED", `backups are disabled: ${config.disabled}`);
  let pruned: PruneReport | undefined;
  const info = await runOnce(config, out, { pruned: (report) => (pruned = report) }, (backupper) => backupper.backup({ signal }));
  const deleted = pruned?.deleted.map((d) => d.key) ?? [];
  if (config.json) {
    out.json({ backup: infoJson(info), pruned: deleted });
    return EXIT_CODES.OK;
  }
  out.line(`Backed up ${config.source} to ${describeDestination(config)}`);
  out.line(`  ${info.key}`);
  out.line(`  ${sizes(info)}, ${info.checksum === undefined ? "encrypted (age)" : `sha256 ${info.checksum}`}, ${formatDuration(info.durationMs ?? 0)}`);
  if (deleted.length > 0) out.line(`Retention (keep ${config.retention}) deleted ${deleted.length}: ${deleted.join(", ")}`);
  return EXIT_CODES.OK;
};
