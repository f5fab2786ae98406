/**
 * `backupper status`: what is configured (credentials redacted) and how the backups stand,
 * without a running server; `--max-age` turns it into a freshness check for cron and monitoring.
 * `--prometheus` prints the metrics instead, `--textfile` writes them for node_exporter. This
 * process has run nothing, so they are those of the listing (backups, the newest verified one,
 * retention); the last backup, failure and drill are known to the process that ran them.
 */
import { EXIT_CODES } from "../exit-codes.js";
import { FUTURE_TOLERANCE_MS, newestVerified } from "../../retention/policy.js";
import type { CliConfig } from "../config.js";
import { sizes } from "../output.js";
import { describeDestination, setUp } from "../setup.js";
import { textfile } from "../textfile.js";
import { describeEncryption } from "../encryption.js";
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
  const { backupper, kind, notifier } = await setUp(config, out);
  const backups = await backupper.list({ signal });
  // Freshness counts only a backup that can be restored as verified and whose date is not ahead
  // of this clock: a junk object or one key dated 2099 must not make an old set look fresh.
  const newest = newestVerified(backups);
  const future = backups.filter((b) => b.futureDated === true);
  const age = newest ? Date.now() - newest.timestamp.getTime() : undefined;
  const stale = config.maxAge === undefined ? undefined : age === undefined || age > config.maxAge;
  const code = stale ? EXIT_CODES.STALE : EXIT_CODES.OK;
  if (config.textfile !== undefined) await textfile(config.textfile).write(backupper.metrics());
  // `stale` alerts come from here: a process whose backups stopped cannot be the one to say so.
  if (stale) {
    const message = newest ? `the newest verified backup is ${formatDuration(age!)} old, more than ${formatDuration(config.maxAge!)}` : "there is no verified backup";
    notifier.send("stale", { key: newest?.key, operation: "status", error: { code: "STALE", message } });
  }
  await notifier.idle();

  if (config.prometheus) {
    out.line(backupper.metrics().trimEnd());
    return code;
  }
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
      encryption: describeEncryption(config.encryption),
      backups: backups.length,
      futureDated: future.map((b) => ({ key: b.key, timestamp: b.timestamp.toISOString() })),
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
  out.line(`Encryption   ${describeEncryption(config.encryption)}`);
  out.line(`Backups      ${backups.length} (retention keeps ${config.retention})`);
  out.line(`Newest       ${newest ? `${newest.key}, ${formatAge(age!)} (${newest.timestamp.toISOString()}), ${sizes(newest)}` : "none verified"}`);
  if (future.length > 0) {
    out.warn(
      `WARNING: ${future.length} backup${future.length === 1 ? " is" : "s are"} dated more than ${formatDuration(FUTURE_TOLERANCE_MS)} ahead of this clock ` +
        `(a wrong clock or a forged key), ignored for freshness and retention: ${future.slice(0, 5).map((b) => b.key).join(", ")}${future.length > 5 ? ", …" : ""}`,
    );
  }
  if (stale) {
    out.warn(
      newest
        ? `STALE: the newest verified backup is ${formatDuration(age!)} old, more than --max-age ${formatDuration(config.maxAge!)}`
        : `STALE: there is no verified backup${backups.length > 0 ? ` (${backups.length} listed, each without valid metadata or dated in the future)` : ""}`,
    );
  }
  return code;
};
