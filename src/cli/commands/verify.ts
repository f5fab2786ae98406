/** `backupper verify <key>`: download and check a backup end to end, writing nothing. */
import { EXIT_CODES } from "../exit-codes.js";
import { sizes } from "../output.js";
import { setUp } from "../setup.js";
import { formatDuration } from "../units.js";
import type { Command } from "./context.js";

export const verify: Command = async ({ config, out, signal }) => {
  const { backupper } = await setUp(config, out);
  const stopProgress = config.json ? () => undefined : out.progress(backupper);
  const result = await backupper.verify(config.key!, { signal }).finally(stopProgress);
  if (config.json) {
    out.json({ ...result, ok: true });
    return EXIT_CODES.OK;
  }
  out.line(`OK ${result.key}`);
  out.line(`  ${sizes(result)}, sha256 ${result.checksum}, ${formatDuration(result.durationMs)}`);
  return EXIT_CODES.OK;
};
