/**
 * The bucket key scheme (docs/FORMAT.md §1), which is public: users find, copy and restore
 * backups by these names with nothing but `aws s3 cp`.
 *
 *   <prefix><name>-<timestamp>-<id>.db.gz   gzip-compressed (`.db.zst` zstd, `.db` when stored raw)
 *   <prefix><name>-<timestamp>-<id>.db.gz.age   the same, encrypted with age (`.db.zst.age`, `.db.age`)
 *   <data key>.meta.json                    metadata, written last: the commit marker
 *
 * bunqueue's keys (`bunqueue-<timestamp>[-<uuid>].db`) parse with the same rule.
 */
import { ConfigError } from "../errors.js";

export const META_SUFFIX = ".meta.json";

const TIMESTAMP = String.raw`(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** Which keys belong to a backupper: those of source `name` under `prefix`. */
export interface Scope {
  prefix: string;
  name: string;
}

export interface ParsedKey {
  timestamp: Date;
  /** Random suffix: ours (8 base-36 chars), bunqueue's UUID, or none in bunqueue's oldest keys. */
  id: string | undefined;
  /**
   * Everything the stages appended after `.db` (`.gz`, `.zst`, `.gz.age`, `.zst.age`, `.age`); ""
   * for a bare `.db`. A hint only: bunqueue stores gzip under `.db`.
   */
  suffix: string;
}

/** Returns `name` if it is usable as the NAME part of a key, else throws a ConfigError naming `option`. */
export function checkName(name: unknown, option = "name"): string {
  let problem: string | undefined;
  if (typeof name !== "string") problem = "must be a string";
  else if (!NAME.test(name)) problem = "must be 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit";
  // `queue-<ts>-x` would write `queue-<ts>-x-<ts>-<id>.db.gz`, which also parses as a key of `queue`.
  else if (new RegExp(`-${TIMESTAMP}(?:-|$)`).test(name)) problem = "must not contain -<timestamp> followed by - or the end (keys of two sources would mix)";
  if (problem) throw new ConfigError(option, `${JSON.stringify(name)} ${problem}`);
  return name as string;
}

export function timestampToKeyPart(date: Date): string {
  return date.toISOString().replace(/[:.]/g, "-");
}

export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let id = "";
  for (const b of bytes) id += ID_ALPHABET[b % 36];
  return id;
}

/** The data key of a backup whose stages append `suffix` after `.db` (`.gz`, or "" when stored as is). */
export function stagedDataKey(prefix: string, name: string, date: Date, id: string, suffix: string): string {
  return `${prefix}${name}-${timestampToKeyPart(date)}-${id}.db${suffix}`;
}

/** A data key of format 1, which knows one stage suffix: gzip-compressed (`.db.gz`) or stored as is (`.db`). */
export function dataKey(prefix: string, name: string, date: Date, id: string, gzip: boolean): string {
  return stagedDataKey(prefix, name, date, id, gzip ? ".gz" : "");
}

export function metaKeyOf(key: string): string {
  return key + META_SUFFIX;
}

/** The common listing prefix of every key of `name`: listing it never returns another prefix's keys. */
export function namePrefix(prefix: string, name: string): string {
  return `${prefix}${name}-`;
}

/**
 * Parses a data key of `name` under `prefix`. Returns undefined for anything else, including
 * keys of a source whose name merely starts with `name` (`queue` vs `queue-archive`).
 */
export function parseDataKey(prefix: string, name: string, key: string): ParsedKey | undefined {
  const head = namePrefix(prefix, name);
  if (!key.startsWith(head)) return undefined;
  const match = new RegExp(`^${TIMESTAMP}(?:-([A-Za-z0-9-]{1,64}))?\\.db((?:\\.gz|\\.zst)?(?:\\.age)?)$`).exec(key.slice(head.length));
  if (!match) return undefined;
  const [, ts, id, suffix] = match as unknown as [string, string, string | undefined, string];
  const iso = `${ts.slice(0, 13)}:${ts.slice(14, 16)}:${ts.slice(17, 19)}.${ts.slice(20)}`;
  const timestamp = new Date(iso);
  if (Number.isNaN(timestamp.getTime()) || timestampToKeyPart(timestamp) !== ts) return undefined;
  return { timestamp, id, suffix };
}

/**
 * The order of backups: newest first by the timestamp in the key, then by the key itself, so
 * equal timestamps order the same way every time; never by the storage's LastModified (§1).
 */
export function compareNewestFirst(a: { key: string; timestamp: Date }, b: { key: string; timestamp: Date }): number {
  return b.timestamp.getTime() - a.timestamp.getTime() || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0);
}

/** Whether `key` is a data or metadata key of `name` under `prefix`: the only objects a source may create or remove. */
export function isKeyOf(prefix: string, name: string, key: string): boolean {
  const data = key.endsWith(META_SUFFIX) ? key.slice(0, -META_SUFFIX.length) : key;
  return parseDataKey(prefix, name, data) !== undefined;
}

/** bunqueue's keys carry a UUID or no id; ours never do, so a metadata-less key of this shape is a legacy backup, not an incomplete one of ours. */
export function isLegacyId(id: string | undefined): boolean {
  return id === undefined || UUID.test(id);
}
