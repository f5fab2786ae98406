/** Validation of `createBackupper` options, done once at creation so mistakes surface before the first scheduled run. */
import { ConfigError } from "./errors.js";
import type { BackupHooks } from "./events.js";
import type { EncryptionKeys } from "./pipeline/stage.js";
import { checkName } from "./format/keys.js";
import { COMPRESSIONS, compressionStage, stagesFor } from "./pipeline/stages.js";
import { resolveNotify, type NotifyOptions, type ResolvedNotify } from "./notify/options.js";
import { normalizeRetention, type RetentionPolicy } from "./retention/policy.js";
import type { Source, StorageAdapter } from "./types.js";
import { milliseconds, wholeNumber } from "./util/whole-number.js";

export interface BackupperOptions {
  /** Where backups live. */
  adapter: StorageAdapter;
  /** What is backed up, and where `restore()` writes by default. */
  source: Source;
  /** Backups to keep: a number (keep the newest N) or a calendar policy. Default 7. */
  retention?: number | RetentionPolicy;
  /** Backup name, the NAME in `NAME-<timestamp>-<id>.db.gz`. Default: the source's name. */
  name?: string;
  /** Key prefix. Default `"backups/"`. */
  prefix?: string;
  /**
   * Default `"gzip"`. `"zstd"` compresses several times faster at gzip's ratio, but needs a
   * runtime whose `node:zlib` writes zstd (Node >= 22.15, Bun, Deno; not Node 20 or Workers,
   * where it is a `ConfigError`) and a `backupper/2` reader; every runtime restores it.
   */
  compression?: "gzip" | "zstd" | "none";
  /** gzip: 1-9 (0 stores), default 6, as `gzip` itself. zstd: 1-19, default 3, as `zstd`. */
  compressionLevel?: number;
  /**
   * Blocks compressed at the same time, 1-64. Default 1: one gzip stream or zstd frame. Above 1
   * the data is cut into 1 MiB blocks compressed concurrently (on the thread pool where the
   * runtime has `node:zlib`) and stored as a standard multi-member gzip file or concatenated
   * zstd frames; set it to the number of cores the backup may use. Memory grows by about 2 MiB per worker.
   */
  compressionWorkers?: number;
  /**
   * Client-side encryption in the age format (docs/FORMAT.md §2). `recipients` (public keys,
   * `age1…`) or `passphrase` (scrypt) encrypt new backups; `identities` (`AGE-SECRET-KEY-1…`)
   * and `passphrase` decrypt them on restore and verify. Several of each rotate keys. Default:
   * none, and an encrypted backup then cannot be restored.
   */
  encryption?: EncryptionOptions;
  /** Scheduler interval in ms. Default 21 600 000 (6 h). */
  interval?: number;
  /** Delay before the first scheduled backup, in ms. Default 60 000. */
  initialDelay?: number;
  /**
   * Time between scheduled restore drills (`drill()`), in ms, from `start()` on: the first one
   * after `initialDelay`, like the first backup. A drill due while a backup runs waits until it
   * has ended; none runs at the same time as a backup. Default: no scheduled drills.
   */
  drillInterval?: number;
  /** Which backup a scheduled drill restores: the newest verified one (default), or a verified one at random. */
  drillPick?: "latest" | "random";
  /**
   * Retry a failed scheduled backup before the next interval: after 1, 2, 4, 8 … minutes, never
   * past the next regular run (`status().nextRun` says when). Each attempt already rides out
   * short outages inside the adapter (the S3 adapter's `retryFor`); these retries are for longer
   * ones. Default true; false waits for the next interval.
   */
  retryFailed?: boolean;
  /** Incomplete objects younger than this (ms) are left alone by prune: they may be a backup still being written. Default 3 600 000. */
  incompleteGrace?: number;
  /**
   * Output cap, in bytes, for restoring a backup without metadata (bunqueue's oldest format,
   * restored with `allowUnverified`), which states no size to stop a decompression bomb at.
   * Default: 100 × its stored size + 64 MiB. A number replaces that, larger or smaller;
   * `Infinity` removes the cap. Backups with metadata stop at the size it states.
   */
  maxRestoreBytes?: number;
  /** `"native"` (node:zlib/node:crypto), `"portable"` (fflate + pure-JS SHA-256) or `"auto"` (native where present). Default `"auto"`. */
  codec?: "auto" | "native" | "portable";
  /**
   * One writer per source: each backup first takes the lease object `<prefix><name>.lease` with
   * a conditional write, renews it every ttl/3 while it runs and gives it up at the end; a backup
   * that finds it held by another process rejects with `LeaseHeldError` (a scheduled one is
   * `skipped` with reason `"lease-held"`). `ttl` (ms, default 120 000): how long a lease lasts
   * unrenewed, so how soon a crashed holder's lease is taken over. Needs an adapter with
   * conditional puts (memory, fs, s3). Default: no lease.
   */
  lease?: boolean | { ttl?: number };
  /** Alerts to a webhook or a healthchecks.io-style ping URL (see `NotifyOptions`). Default: none. */
  notify?: NotifyOptions;
  /** Event listeners, the same as calling `on()` for each. */
  on?: BackupHooks;
}

export interface EncryptionOptions {
  recipients?: readonly string[];
  passphrase?: string;
  identities?: readonly string[];
}

export interface ResolvedBackupperOptions {
  adapter: StorageAdapter;
  source: Source;
  retention: RetentionPolicy;
  name: string;
  prefix: string;
  compression: "gzip" | "zstd" | "none";
  compressionLevel: number;
  compressionWorkers: number;
  encryption: EncryptionKeys;
  interval: number;
  initialDelay: number;
  drillInterval: number | undefined;
  drillPick: "latest" | "random";
  retryFailed: boolean;
  incompleteGrace: number;
  /** Undefined: `readBackup`'s default cap (`UNVERIFIED_RATIO`). */
  maxRestoreBytes: number | undefined;
  codec: "auto" | "native" | "portable";
  /** Undefined: no lease. */
  lease: { ttl: number } | undefined;
  notify: ResolvedNotify | undefined;
  on: BackupHooks;
}

function flag(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new ConfigError(option, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new ConfigError(option, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/**
 * Two minutes: a crashed holder blocks the next backup for at most that long (nothing next to a
 * schedule of hours), while a renewal every 40 s leaves room for the storage's own retries and
 * for clocks a few seconds apart.
 */
const DEFAULT_LEASE_TTL = 120_000;

function resolveLease(value: unknown): { ttl: number } | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { ttl: DEFAULT_LEASE_TTL };
  if (typeof value !== "object" || value === null) throw new ConfigError("lease", `must be true, false or { ttl }, got ${JSON.stringify(value)}`);
  return { ttl: milliseconds("lease.ttl", (value as { ttl?: unknown }).ttl, DEFAULT_LEASE_TTL, 1000) };
}

/** Checked against the range of the chosen compression; a compression without levels (`none`) takes any of gzip's. */
function compressionLevel(compression: string, value: unknown): number {
  const { min, max, default: fallback } = compressionStage(compression)?.levels ?? compressionStage("gzip")!.levels!;
  const level = value ?? fallback;
  if (typeof level !== "number" || !Number.isInteger(level) || level < min || level > max) {
    throw new ConfigError("compressionLevel", `must be a whole number from ${min} to ${max} for ${compression}, got ${JSON.stringify(level)}`);
  }
  return level;
}

function hasMethods(value: unknown, methods: string[]): boolean {
  return typeof value === "object" && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === "function");
}

const RECIPIENT = /^age1[0-9a-z]{20,}$/;
const IDENTITY = /^AGE-SECRET-KEY-(?:PQ-)?1[0-9A-Z]{20,}$/;

function keyList(option: string, value: unknown, pattern: RegExp, what: string, secret: boolean): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError(option, `must be an array of ${what}`);
  value.forEach((item, i) => {
    // A malformed secret key is still mostly secret: its value never goes into the message.
    if (typeof item !== "string" || !pattern.test(item)) throw new ConfigError(`${option}[${i}]`, `is not ${what}${secret ? "" : `: ${JSON.stringify(item)}`}`);
  });
  return value as string[];
}

function resolveEncryption(value: unknown): EncryptionKeys {
  if (value === undefined) return { recipients: [], passphrase: undefined, identities: [] };
  if (typeof value !== "object" || value === null) throw new ConfigError("encryption", "must be an object: { recipients }, { passphrase } or { identities }");
  const { recipients, passphrase, identities } = value as EncryptionOptions;
  const resolved: EncryptionKeys = {
    recipients: keyList("encryption.recipients", recipients, RECIPIENT, "an age recipient (age1…)", false),
    passphrase,
    identities: keyList("encryption.identities", identities, IDENTITY, "an age identity (AGE-SECRET-KEY-1…)", true),
  };
  if (passphrase !== undefined && (typeof passphrase !== "string" || passphrase.length === 0)) {
    throw new ConfigError("encryption.passphrase", "must be a non-empty string");
  }
  // age encrypts a file to recipients or to one passphrase, never both (age-encryption.org/v1).
  if (passphrase !== undefined && resolved.recipients.length > 0) {
    throw new ConfigError("encryption", "give recipients or a passphrase, not both: age encrypts to one or the other");
  }
  return resolved;
}

/** What `createBackupper` takes besides the adapter, the source and the listeners: what a configuration (the CLI's) sets. */
export type BackupperSettings = Omit<BackupperOptions, "adapter" | "source" | "on">;

type ResolvedSettings = Omit<ResolvedBackupperOptions, "adapter" | "source" | "on">;

/**
 * Checks and completes the settings of a backupper whose source is called `sourceName`. The CLI
 * checks its configuration with this before it has a source or a storage to hand over.
 */
export function resolveBackupperSettings(options: BackupperSettings, sourceName: string): ResolvedSettings {
  const prefix = options.prefix ?? "backups/";
  if (typeof prefix !== "string" || prefix.startsWith("/") || prefix.includes("\0") || prefix.split("/").some((s) => s === "..")) {
    throw new ConfigError("prefix", `must be a relative key prefix such as "backups/", got ${JSON.stringify(prefix)}`);
  }
  const compression = oneOf("compression", options.compression, COMPRESSIONS as ResolvedBackupperOptions["compression"][], "gzip");
  const level = compressionLevel(compression, options.compressionLevel);
  const workers = wholeNumber("compressionWorkers", options.compressionWorkers, 1, 1, 64);
  const { maxRestoreBytes } = options;
  if (maxRestoreBytes !== undefined && !((Number.isSafeInteger(maxRestoreBytes) && maxRestoreBytes >= 0) || maxRestoreBytes === Infinity)) {
    throw new ConfigError("maxRestoreBytes", `must be a whole number of bytes >= 0 or Infinity, got ${JSON.stringify(maxRestoreBytes)}`);
  }
  const resolved: ResolvedSettings = {
    retention: normalizeRetention(options.retention ?? 7),
    name: checkName(options.name ?? sourceName, options.name === undefined ? "source.name" : "name"),
    prefix,
    compression,
    compressionLevel: level,
    compressionWorkers: workers,
    encryption: resolveEncryption(options.encryption),
    interval: milliseconds("interval", options.interval, 21_600_000, 1),
    initialDelay: milliseconds("initialDelay", options.initialDelay, 60_000, 0),
    drillInterval: options.drillInterval === undefined ? undefined : milliseconds("drillInterval", options.drillInterval, 0, 1),
    drillPick: oneOf("drillPick", options.drillPick, ["latest", "random"], "latest"),
    retryFailed: flag("retryFailed", options.retryFailed, true),
    incompleteGrace: milliseconds("incompleteGrace", options.incompleteGrace, 3_600_000, 0),
    maxRestoreBytes,
    codec: oneOf("codec", options.codec, ["auto", "native", "portable"], "auto"),
    lease: resolveLease(options.lease),
    notify: resolveNotify(options.notify),
  };
  // A stage this runtime cannot write (zstd on Node 20) is refused now, naming its option, not at the first backup.
  stagesFor(resolved);
  return resolved;
}

export function resolveBackupperOptions(options: BackupperOptions): ResolvedBackupperOptions {
  if (typeof options !== "object" || options === null) throw new ConfigError("options", "must be an object");
  const { adapter, source } = options;
  if (!hasMethods(adapter, ["list", "put", "get", "delete"])) {
    throw new ConfigError("adapter", "must be a StorageAdapter (an object with list, put, get and delete)");
  }
  if (!hasMethods(source, ["snapshot"])) {
    throw new ConfigError("source", "must be a Source (e.g. fileSource(path), sqliteSource({ path }), bytesSource(bytes))");
  }
  if (source.drill !== undefined && typeof source.drill !== "function") throw new ConfigError("source.drill", "must be a function returning the drill's scratch place");
  const settings = resolveBackupperSettings(options, source.name);
  if (options.on !== undefined && (typeof options.on !== "object" || options.on === null)) {
    throw new ConfigError("on", "must be an object of event listeners");
  }
  return { adapter, source, on: options.on ?? {}, ...settings };
}
