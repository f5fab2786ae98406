/**
 * `backupper status`: what is configured (credentials redacted) and how the backups stand,
 * without a running server; `--max-age` turns it into a freshness check for cron and monitoring.
 */
import { EXIT_CODES } from "../exit-codes.js";
import type { CliConfig } from "../config.js";
import { sizes } from "../output.js";
import { describeDestination, setUp } from "../setup.js";
import { formatAge, formatDuration } from "../units.js";
import type { Command } from "./context.js";

/** `AKIAIOSFODNN7EXAMPLE` → `AKIA…PLE`; short ids show less, so a mask never reveals most of one. */
export function maskKeyId(id: string): string {
  if (id.length >= 12) return `${id.slice(0, 4)}…${id.slice(-3)}`;
  if (id.length >= 6) return `${id.slice(0, 2)}…`;
  return "…";
}

function destinationJson(config: CliConfig) {
  const d = config.destination;
  if (d.kind === "dir") return { kind: "dir", root: d.root, prefix: config.prefix };
  return {
    kind: "s3",
    bucket: d.options.bucket,
    region: d.options.region,
    endpoint: d.options.endpoint ?? null,
    forcePathStyle: d.options.forcePathStyle ?? false,
    prefix: config.prefix,
    accessKeyId: maskKeyId(d.options.accessKeyId),
    credentialsFrom: d.credentialsFrom,
    sessionToken: d.options.sessionToken !== undefined,
  };
}

export const status: Command = async ({ config, out, signal }) => {
  const { backupper, kind } = await setUp(config);
  const backups = await backupper.list({ signal });
  const newest = backups[0];
  const age = newest ? Date.now() - newest.timestamp.getTime() : undefined;
  const stale = config.maxAge === undefined ? undefined : age === undefined || age > config.maxAge;
  const code = stale ? EXIT_CODES.STALE : EXIT_CODES.OK;

  if (config.json) {
    out.json({
      name: config.name,
      source: config.source ?? null,
      sourceKind: config.source === undefined ? null : kind,
      destination: destinationJson(config),
      enabled: config.disabled === undefined,
      ...(config.disabled === undefined ? {} : { disabledReason: config.disabled }),
      interval: config.interval,
      retention: config.retention,
      backups: backups.length,
      newest: newest
        ? { key: newest.key, timestamp: newest.timestamp.toISOString(), ageMs: age, size: newest.size ?? null, compressedSize: newest.compressedSize, verified: newest.verified }
        : null,
      maxAge: config.maxAge ?? null,
      stale: stale ?? null,
    });
    return code;
  }

  const d = config.destination;
  out.line(`Name         ${config.name}`);
  out.line(`Source       ${config.source === undefined ? "(none)" : `${config.source} (${kind === "sqlite" ? "SQLite database" : "file"})`}`);
  out.line(`Destination  ${describeDestination(config)}`);
  if (d.kind === "s3") {
    const token = d.options.sessionToken === undefined ? "" : ", session token set";
    out.line(`Credentials  ${maskKeyId(d.options.accessKeyId)} from ${d.credentialsFrom}${token}, region ${d.options.region}`);
  }
  out.line(`Schedule     ${config.disabled === undefined ? "enabled" : `disabled (${config.disabled})`}, every ${formatDuration(config.interval)}`);
  out.line(`Backups      ${backups.length} (retention keeps ${config.retention})`);
  out.line(`Newest       ${newest ? `${newest.key}, ${formatAge(age!)} (${newest.timestamp.toISOString()}), ${sizes(newest)}` : "none"}`);
  if (stale) {
    out.warn(
      newest
        ? `STALE: the newest backup is ${formatDuration(age!)} old, more than --max-age ${formatDuration(config.maxAge!)}`
        : "STALE: there is no backup",
    );
  }
  return code;
};
