/** `backupper list`: the complete backups of this source, newest first. */
import { EXIT_CODES } from "../exit-codes.js";
import { infoJson, sizes } from "../output.js";
import { describeDestination, setUp } from "../setup.js";
import { formatAge } from "../units.js";
import type { Command } from "./context.js";

export const list: Command = async ({ config, out, signal }) => {
  const { backupper } = await setUp(config, out);
  const backups = await backupper.list({ signal });
  if (config.json) {
    out.json(backups.map((b) => ({ ...infoJson(b), futureDated: b.futureDated === true })));
    return EXIT_CODES.OK;
  }
  if (backups.length === 0) {
    out.line(`No backups of "${config.name}" in ${describeDestination(config)}`);
    return EXIT_CODES.OK;
  }
  const now = Date.now();
  for (const b of backups) {
    const flag = b.verified ? "" : `  [${b.problem ?? "no metadata: restore needs --allow-unverified"}]`;
    const sealed = b.meta?.encryption === "age" ? "  [encrypted: age]" : "";
    const future = b.futureDated ? "  [dated in the future: kept, ignored by retention and freshness]" : "";
    out.line(`${b.key}  ${b.timestamp.toISOString()} (${formatAge(now - b.timestamp.getTime())})  ${sizes(b)}${sealed}${flag}${future}`);
  }
  out.line(`${backups.length} backup${backups.length === 1 ? "" : "s"} of "${config.name}" in ${describeDestination(config)}, keeping ${config.retention}`);
  return EXIT_CODES.OK;
};
