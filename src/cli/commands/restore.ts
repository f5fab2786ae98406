/** `backupper restore <key>`: download, verify, and only then replace the target. */
import { EXIT_CODES } from "../exit-codes.js";
import { setUp } from "../setup.js";
import { formatBytes, formatDuration } from "../units.js";
import type { Command } from "./context.js";

export const restore: Command = async ({ config, out, signal }) => {
  const { backupper, restoredKind } = await setUp(config, out);
  const stopProgress = config.json ? () => undefined : out.progress(backupper);
  const result = await backupper
    .restore(config.key!, {
      force: config.force,
      allowUnverified: config.allowUnverified,
      signal,
      ...(config.to === undefined ? {} : { to: config.to }),
    })
    .finally(stopProgress);
  if (config.json) {
    out.json(result);
    return EXIT_CODES.OK;
  }
  out.line(`Restored ${result.key} to ${result.target}${restoredKind() === "sqlite" ? " (SQLite, integrity checked)" : ""}`);
  const check = result.verified ? `sha256 ${result.checksum} verified` : `UNVERIFIED (no metadata), sha256 ${result.checksum}`;
  out.line(`  ${formatBytes(result.size)}, ${check}, ${formatDuration(result.durationMs)}`);
  return EXIT_CODES.OK;
};
