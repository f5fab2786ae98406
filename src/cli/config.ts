/**
 * The bin's configuration: a pure function of (argv, env), so every rule below is unit- and
 * property-tested without processes. Flags override variables; an empty variable counts as
 * unset (as `docker run -e VAR=` produces); a set but invalid value is a `ConfigError` naming
 * the variable or flag, never replaced by a default. Values are checked by the same
 * validators the library uses, with the option renamed to where the value came from.
 */
import { resolveS3Options as checkS3Options, type S3AdapterOptions } from "../adapters/s3/options.js";
import * as presets from "../adapters/s3/presets.js";
import { ConfigError } from "../errors.js";
import { NOTIFY_TRIGGERS, resolveNotify, type NotifyOptions, type NotifyTrigger } from "../notify/options.js";
import { resolveBackupperSettings, type BackupperOptions } from "../options.js";
import { fileSource } from "../sources/file.js";
import { parseCommandLine, takesFlag, type CommandLine, type CommandName, type Flags } from "./args.js";
import { encryptionSettings, type EncryptionSettings } from "./encryption.js";
import { parseDuration } from "./units.js";

export type Env = Readonly<Record<string, string | undefined>>;

export type Destination =
  | { kind: "dir"; root: string }
  | {
      kind: "s3";
      options: Required<Pick<S3AdapterOptions, "bucket" | "region" | "accessKeyId" | "secretAccessKey">> &
        Pick<S3AdapterOptions, "endpoint" | "forcePathStyle" | "sessionToken" | "concurrency" | "storageClass" | "sse" | "objectLock" | "retryFor">;
      /** Which family of variables gave the credentials. */
      credentialsFrom: "S3_*" | "AWS_*";
    };

export interface CliConfig {
  command: CommandName;
  /** The backup key of `restore` and `verify`. */
  key: string | undefined;
  json: boolean;
  force: boolean;
  allowUnverified: boolean;
  dryRun: boolean;
  /** `restore --to`. */
  to: string | undefined;
  /** `status --max-age`, ms. */
  maxAge: number | undefined;
  /** `drill --latest` / `--random`; undefined: a key, or the default (latest). */
  pick: "latest" | "random" | undefined;
  /** `status --prometheus`. */
  prometheus: boolean;
  /** `--textfile` / BACKUP_TEXTFILE: where the metrics go for node_exporter's textfile collector. */
  textfile: string | undefined;
  /** `run --drill-interval` / BACKUP_DRILL_INTERVAL, ms; undefined: no scheduled drills. */
  drillInterval: number | undefined;
  /** BACKUP_RETRY_FAILED (`run`): retry a failed scheduled backup before the next interval; undefined: `createBackupper`'s default. */
  retryFailed: boolean | undefined;
  /** BACKUP_DRILL_QUERY: run on a drill's restored SQLite copy. */
  drillQuery: string | undefined;
  destination: Destination;
  /** Why `now` and `run` refuse to back up, or undefined when backups are enabled. */
  disabled: string | undefined;
  /** The file or SQLite database backed up, and restored into by default. */
  source: string | undefined;
  name: string;
  prefix: string;
  retention: number;
  interval: number;
  initialDelay: number;
  /** Blocks compressed at once (`createBackupper`'s `compressionWorkers`). */
  compressionWorkers: number;
  /** `createBackupper`'s `compression` and `compressionLevel`, checked there; undefined: its defaults. */
  compression: string | undefined;
  compressionLevel: number | undefined;
  /** Output cap of a restore without metadata (`createBackupper`'s `maxRestoreBytes`); undefined: the library's default. */
  maxRestoreBytes: number | undefined;
  /** age keys, and the files that hold them (read by setUp). */
  encryption: EncryptionSettings;
  /** `--lease` / BACKUP_LEASE (ttl from BACKUP_LEASE_TTL); undefined: no lease. */
  lease: { ttl?: number } | undefined;
  /** BACKUP_NOTIFY_URL, BACKUP_NOTIFY_ON, BACKUP_NOTIFY_STYLE; undefined: no alerts. */
  notify: Pick<NotifyOptions, "url" | "on" | "style"> | undefined;
}

export type Invocation = Exclude<CommandLine, { kind: "command" }> | { kind: "command"; config: CliConfig };

const DEFAULTS = { prefix: "backups/", retention: 7, interval: 21_600_000, initialDelay: 60_000, compressionWorkers: 1 };
const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];

interface Setting {
  value: string;
  /** `--flag` or the variable's name: what an error names. */
  from: string;
}

/** The flag if given, else the first set variable of `names`. */
function setting(env: Env, flag: { name: string; value: string | undefined } | undefined, ...names: string[]): Setting | undefined {
  if (flag?.value !== undefined) return { value: flag.value, from: `--${flag.name}` };
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "") return { value, from: name };
  }
  return undefined;
}

function fromFlag(flags: Flags, name: keyof Flags & string) {
  const value = flags[name];
  return { name, value: typeof value === "string" ? value : undefined };
}

function wholeNumber(s: Setting): number {
  if (!/^\d+$/.test(s.value.trim())) throw new ConfigError(s.from, `must be a whole number >= 1, got ${JSON.stringify(s.value)}`);
  return Number(s.value.trim());
}

function integer(s: Setting): number {
  if (!/^\d+$/.test(s.value.trim())) throw new ConfigError(s.from, `must be a whole number, got ${JSON.stringify(s.value)}`);
  return Number(s.value.trim());
}

function duration(s: Setting): number {
  const ms = parseDuration(s.value.trim());
  if (ms === undefined) {
    throw new ConfigError(s.from, `must be milliseconds or a duration such as 30m, 6h, 2d, got ${JSON.stringify(s.value)}`);
  }
  return ms;
}

const BYTES = new Map([["", 1], ["b", 1], ["k", 2 ** 10], ["kib", 2 ** 10], ["m", 2 ** 20], ["mib", 2 ** 20], ["g", 2 ** 30], ["gib", 2 ** 30], ["t", 2 ** 40], ["tib", 2 ** 40]]);

/** Bytes, or a size in binary units (`512MiB`, `2G`, `1.5 GiB`). Decimal `KB`/`MB`/`GB` are refused rather than guessed at. */
function size(s: Setting): number {
  const match = /^(\d+(?:\.\d+)?) ?([a-z]*)$/i.exec(s.value.trim());
  const unit = match ? BYTES.get(match[2]!.toLowerCase()) : undefined;
  const bytes = unit === undefined ? undefined : Math.floor(Number(match![1]) * unit);
  if (bytes === undefined || !Number.isSafeInteger(bytes)) {
    throw new ConfigError(s.from, `must be bytes or a size such as 512MiB, 10GiB (units K/KiB, M/MiB, G/GiB, T/TiB), got ${JSON.stringify(s.value)}`);
  }
  return bytes;
}

function boolean(s: Setting): boolean {
  const v = s.value.trim().toLowerCase();
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw new ConfigError(s.from, `must be one of ${[...TRUE, ...FALSE].join(", ")}, got ${JSON.stringify(s.value)}`);
}

/** Runs a library validator, renaming the option in its ConfigError to the flag or variable that set it. */
function checkedAs<T>(origin: Record<string, string | undefined>, check: () => T): T {
  try {
    return check();
  } catch (error) {
    const renamed = error instanceof ConfigError ? origin[error.option] : undefined;
    if (renamed === undefined || !(error instanceof ConfigError)) throw error;
    throw new ConfigError(renamed, error.message.slice(error.option.length + 2));
  }
}

function s3Destination(env: Env): Destination {
  const bucket = setting(env, undefined, "S3_BUCKET");
  if (!bucket) {
    throw new ConfigError("S3_BUCKET", "is required to back up to S3 (or give --dir / BACKUP_DIR for a local directory)");
  }
  const endpoint = setting(env, undefined, "S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
  const region = setting(env, undefined, "S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION");
  const pathStyle = setting(env, undefined, "S3_FORCE_PATH_STYLE");
  const retryFor = setting(env, undefined, "S3_RETRY_FOR");
  // The credentials come as a family: an S3_* key never pairs with an AWS_* secret or token.
  const family = setting(env, undefined, "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY") ? "S3" : "AWS";
  const keyId = setting(env, undefined, `${family}_ACCESS_KEY_ID`);
  const secret = setting(env, undefined, `${family}_SECRET_ACCESS_KEY`);
  const token = setting(env, undefined, `${family}_SESSION_TOKEN`);
  if (!keyId) throw new ConfigError(`${family}_ACCESS_KEY_ID`, "is required to back up to S3 (S3_ACCESS_KEY_ID, or AWS_ACCESS_KEY_ID)");
  if (!secret) throw new ConfigError(`${family}_SECRET_ACCESS_KEY`, `is required with ${keyId.from}`);

  const preset = providerPreset(env, region, endpoint);
  const options = {
    ...preset,
    ...s3Storage(env),
    bucket: bucket.value,
    // R2 signs with region "auto"; other custom endpoints (MinIO, Ceph) expect us-east-1, as does AWS's global default.
    region: region?.value ?? preset.region ?? (endpoint && /\.r2\.cloudflarestorage\.com$/.test(hostOf(endpoint.value)) ? "auto" : "us-east-1"),
    accessKeyId: keyId.value,
    secretAccessKey: secret.value,
    ...(endpoint ? { endpoint: endpoint.value } : {}),
    // Path-style by default on a custom endpoint, as bunqueue's Bun S3 client does: self-hosted servers rarely have bucket DNS.
    ...(pathStyle ? { forcePathStyle: boolean(pathStyle) } : endpoint ? { forcePathStyle: true } : {}),
    ...(token ? { sessionToken: token.value } : {}),
    ...(retryFor ? { retryFor: duration(retryFor) } : {}),
  };
  const origin = {
    bucket: bucket.from,
    region: region?.from ?? "S3_REGION",
    endpoint: endpoint?.from,
    forcePathStyle: pathStyle?.from ?? "S3_FORCE_PATH_STYLE",
    accessKeyId: keyId.from,
    secretAccessKey: secret.from,
    sessionToken: token?.from,
    storageClass: "S3_STORAGE_CLASS",
    sse: "S3_SSE",
    "sse.kmsKeyId": "S3_SSE_KMS_KEY_ID",
    "objectLock.mode": "S3_OBJECT_LOCK_MODE",
    "objectLock.retainDays": "S3_OBJECT_LOCK_DAYS",
    retryFor: "S3_RETRY_FOR",
  };
  checkedAs(origin, () => checkS3Options(options));
  return { kind: "s3", options, credentialsFrom: family === "S3" ? "S3_*" : "AWS_*" };
}

/** `S3_PROVIDER`'s preset, filled from S3_REGION / S3_ENDPOINT where the provider needs them; explicit variables override it. */
function providerPreset(env: Env, region: Setting | undefined, endpoint: Setting | undefined): Partial<S3AdapterOptions> {
  const provider = setting(env, undefined, "S3_PROVIDER");
  if (!provider) return {};
  const need = (s: Setting | undefined, name: string) => {
    if (!s) throw new ConfigError(name, `is required with S3_PROVIDER=${provider.value}`);
    return s.value;
  };
  const r = () => need(region, "S3_REGION");
  const e = () => need(endpoint, "S3_ENDPOINT");
  const make: Record<string, () => Partial<S3AdapterOptions>> = {
    aws: () => presets.awsS3({ region: region?.value ?? "us-east-1" }),
    r2: () => ({ region: "auto", concurrency: 2, endpoint: e() }),
    minio: () => presets.minio({ endpoint: e() }),
    spaces: () => presets.digitalOceanSpaces({ region: r() }),
    b2: () => presets.backblazeB2({ region: r() }),
    wasabi: () => presets.wasabi({ region: r() }),
    gcs: () => presets.googleCloudStorage(),
    hetzner: () => presets.hetzner({ location: r() }),
    scaleway: () => presets.scaleway({ region: r() }),
    ovh: () => presets.ovh({ region: r() }),
    tigris: () => presets.tigris(),
    garage: () => presets.garage({ endpoint: e() }),
    ceph: () => presets.cephRgw({ endpoint: e() }),
  };
  const preset = make[provider.value.trim().toLowerCase()];
  if (!preset) throw new ConfigError("S3_PROVIDER", `must be one of ${Object.keys(make).join(", ")}, got ${JSON.stringify(provider.value)}`);
  return preset();
}

/** Storage class, encryption and Object Lock from S3_STORAGE_CLASS, S3_SSE(_KMS_KEY_ID), S3_OBJECT_LOCK_MODE/DAYS. */
function s3Storage(env: Env): Partial<S3AdapterOptions> {
  const storageClass = setting(env, undefined, "S3_STORAGE_CLASS");
  const sse = setting(env, undefined, "S3_SSE");
  const kmsKeyId = setting(env, undefined, "S3_SSE_KMS_KEY_ID");
  const mode = setting(env, undefined, "S3_OBJECT_LOCK_MODE");
  const days = setting(env, undefined, "S3_OBJECT_LOCK_DAYS");
  const out: Partial<S3AdapterOptions> = {};
  if (storageClass) out.storageClass = storageClass.value;
  if (sse && sse.value !== "AES256" && sse.value !== "aws:kms") throw new ConfigError("S3_SSE", `must be AES256 or aws:kms, got ${JSON.stringify(sse.value)}`);
  if (kmsKeyId && sse?.value !== "aws:kms") throw new ConfigError("S3_SSE_KMS_KEY_ID", "needs S3_SSE=aws:kms");
  if (sse) out.sse = sse.value === "AES256" ? "AES256" : { kmsKeyId: kmsKeyId?.value ?? "" };
  if (!mode !== !days) throw new ConfigError(mode ? "S3_OBJECT_LOCK_DAYS" : "S3_OBJECT_LOCK_MODE", "is required with the other S3_OBJECT_LOCK_* variable");
  if (mode && days) out.objectLock = { mode: mode.value.toUpperCase() as "GOVERNANCE" | "COMPLIANCE", retainDays: wholeNumber(days) };
  return out;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}

function leaseOf(env: Env, flags: Flags): CliConfig["lease"] {
  const asked = setting(env, undefined, "BACKUP_LEASE");
  const on = flags.lease === true || (asked ? boolean(asked) : false);
  const ttl = setting(env, undefined, "BACKUP_LEASE_TTL");
  if (ttl && !on) throw new ConfigError("BACKUP_LEASE_TTL", "is set but no lease is asked for (set BACKUP_LEASE=1 or pass --lease)");
  return on ? (ttl ? { ttl: duration(ttl) } : {}) : undefined;
}

/** The alert settings; the URL is checked but, as it may hold a token, never shown. */
function notifyOf(env: Env): CliConfig["notify"] {
  const url = setting(env, undefined, "BACKUP_NOTIFY_URL");
  const on = setting(env, undefined, "BACKUP_NOTIFY_ON");
  const style = setting(env, undefined, "BACKUP_NOTIFY_STYLE");
  if (!url) {
    const orphan = on ?? style;
    if (orphan) throw new ConfigError(orphan.from, "needs BACKUP_NOTIFY_URL");
    return undefined;
  }
  const triggers = on?.value.split(/[\s,]+/).filter((t) => t !== "");
  const unknown = triggers?.find((t) => !(NOTIFY_TRIGGERS as readonly string[]).includes(t));
  if (on && (unknown !== undefined || triggers!.length === 0)) {
    throw new ConfigError(on.from, `must list some of ${NOTIFY_TRIGGERS.join(", ")} (commas or spaces), got ${JSON.stringify(on.value)}`);
  }
  const notify = {
    url: url.value.trim(),
    ...(triggers ? { on: triggers as NotifyTrigger[] } : {}),
    ...(style ? { style: style.value.trim() as "webhook" | "ping" } : {}),
  };
  checkedAs({ url: url.from, style: style?.from }, () => resolveNotify(notify, ""));
  return notify;
}

function destinationOf(env: Env, flags: Flags): Destination {
  const dir = setting(env, fromFlag(flags, "dir"), "BACKUP_DIR");
  if (dir?.from === "BACKUP_DIR" && setting(env, undefined, "S3_BUCKET")) {
    throw new ConfigError("BACKUP_DIR", "and S3_BUCKET are both set: unset one, or choose with --dir");
  }
  return dir ? { kind: "dir", root: dir.value } : s3Destination(env);
}

function disabledReason(env: Env, destination: Destination): string | undefined {
  const enabled = setting(env, undefined, "S3_BACKUP_ENABLED");
  if (enabled && !boolean(enabled)) return `S3_BACKUP_ENABLED is ${JSON.stringify(enabled.value)}`;
  if (!enabled && destination.kind === "s3") return "S3_BACKUP_ENABLED is not set (set it to 1 to back up to S3)";
  return undefined;
}

function resolveConfig(command: CommandName, key: string | undefined, flags: Flags, env: Env): CliConfig {
  const destination = destinationOf(env, flags);
  const disabled = disabledReason(env, destination);
  const source = setting(env, fromFlag(flags, "source"), "BACKUP_SOURCE");
  const name = setting(env, fromFlag(flags, "name"), "BACKUP_NAME");
  const prefix = setting(env, fromFlag(flags, "prefix"), "S3_BACKUP_PREFIX");
  const retention = setting(env, fromFlag(flags, "retention"), "S3_BACKUP_RETENTION");
  const interval = setting(env, fromFlag(flags, "interval"), "S3_BACKUP_INTERVAL");
  const initialDelay = setting(env, fromFlag(flags, "initial-delay"));
  const workers = setting(env, fromFlag(flags, "compression-workers"), "BACKUP_COMPRESSION_WORKERS");
  const compression = setting(env, fromFlag(flags, "compression"), "BACKUP_COMPRESSION");
  const level = setting(env, fromFlag(flags, "compression-level"), "BACKUP_COMPRESSION_LEVEL");
  const maxAge = setting(env, fromFlag(flags, "max-age"));
  const maxRestoreBytes = setting(env, fromFlag(flags, "max-restore-bytes"), "BACKUP_MAX_RESTORE_BYTES");
  const textfile = takesFlag(command, "textfile") ? setting(env, fromFlag(flags, "textfile"), "BACKUP_TEXTFILE") : undefined;
  const drillInterval = takesFlag(command, "drill-interval") ? setting(env, fromFlag(flags, "drill-interval"), "BACKUP_DRILL_INTERVAL") : undefined;
  const drillQuery = setting(env, undefined, "BACKUP_DRILL_QUERY");
  const retryFailed = setting(env, undefined, "BACKUP_RETRY_FAILED");

  const sourceName = source ? checkedAs({ path: source.from, name: source.from }, () => fileSource(source.value).name) : undefined;
  if (!name && !sourceName) {
    throw new ConfigError("BACKUP_NAME", "is required when no --source / BACKUP_SOURCE is given (the NAME in NAME-<timestamp>-<id>.db.gz)");
  }
  if ((command === "now" || command === "run") && !source) {
    throw new ConfigError("BACKUP_SOURCE", `is required for ${command}: the file or SQLite database to back up (or --source)`);
  }
  if (command === "restore" && !source && flags.to === undefined) {
    throw new ConfigError("BACKUP_SOURCE", "is required for restore unless --to says where to write (or --source)");
  }
  if (maxAge && duration(maxAge) < 1) throw new ConfigError(maxAge.from, "must be at least 1 ms");
  // node_exporter's textfile collector reads *.prom files only: any other name would be written and never read.
  if (textfile && !textfile.value.endsWith(".prom")) throw new ConfigError(textfile.from, `must name a file ending in .prom (node_exporter reads only those), got ${JSON.stringify(textfile.value)}`);

  const config: CliConfig = {
    command,
    key,
    json: flags.json === true,
    force: flags.force === true,
    allowUnverified: flags["allow-unverified"] === true,
    dryRun: flags["dry-run"] === true,
    to: flags.to,
    maxAge: maxAge ? duration(maxAge) : undefined,
    pick: flags.latest ? "latest" : flags.random ? "random" : undefined,
    prometheus: flags.prometheus === true,
    textfile: textfile?.value,
    drillInterval: drillInterval ? duration(drillInterval) : undefined,
    drillQuery: drillQuery?.value,
    retryFailed: retryFailed ? boolean(retryFailed) : undefined,
    destination,
    disabled,
    source: source?.value,
    name: name?.value ?? sourceName!,
    prefix: prefix?.value ?? DEFAULTS.prefix,
    retention: retention ? wholeNumber(retention) : DEFAULTS.retention,
    interval: interval ? duration(interval) : DEFAULTS.interval,
    initialDelay: initialDelay ? duration(initialDelay) : DEFAULTS.initialDelay,
    compressionWorkers: workers ? wholeNumber(workers) : DEFAULTS.compressionWorkers,
    compression: compression?.value.trim(),
    compressionLevel: level ? integer(level) : undefined,
    maxRestoreBytes: maxRestoreBytes ? size(maxRestoreBytes) : undefined,
    encryption: encryptionSettings(env, flags),
    lease: leaseOf(env, flags),
    notify: notifyOf(env),
  };
  const origin = {
    name: name?.from ?? source?.from,
    "source.name": source?.from,
    prefix: prefix?.from,
    retention: retention?.from,
    interval: interval?.from,
    initialDelay: initialDelay?.from,
    compressionWorkers: workers?.from,
    compression: compression?.from,
    compressionLevel: level?.from,
    maxRestoreBytes: maxRestoreBytes?.from,
    "lease.ttl": "BACKUP_LEASE_TTL",
    drillInterval: drillInterval?.from,
  };
  checkedAs(origin, () => resolveBackupperSettings(backupperSettings(config), config.name));
  return config;
}

/** The `createBackupper` options the configuration sets: checked here, used by the commands. */
export function backupperSettings(config: CliConfig) {
  const { name, prefix, retention, interval, initialDelay, drillInterval, retryFailed, compressionWorkers, compression, compressionLevel, maxRestoreBytes, lease } = config;
  return {
    name,
    prefix,
    retention,
    interval,
    initialDelay,
    drillInterval,
    retryFailed,
    compressionWorkers,
    compression: compression as BackupperOptions["compression"],
    compressionLevel,
    maxRestoreBytes,
    lease,
  };
}

/** The whole invocation: help and version need no configuration, every command needs a valid one. */
export function parseConfig(argv: readonly string[], env: Env): Invocation {
  const line = parseCommandLine(argv);
  if (line.kind !== "command") return line;
  return { kind: "command", config: resolveConfig(line.command, line.key, line.flags, env) };
}
