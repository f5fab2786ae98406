/**
 * Which backups to keep: a count (the seed's `S3_BACKUP_RETENTION`), or restic-style
 * calendar rules. Planning is a pure function of the listing so it can be dry-run,
 * property-tested and explained: every decision carries its reasons.
 */
import { ConfigError } from "../errors.js";
import { compareNewestFirst } from "../format/keys.js";

export interface RetentionPolicy {
  /** Keep the newest N backups. */
  last?: number;
  /** Keep the newest backup of each of the last N hours (UTC) that have backups. */
  hourly?: number;
  /** … of each of the last N days (UTC). */
  daily?: number;
  /** … of each of the last N ISO weeks (UTC). */
  weekly?: number;
  /** … of each of the last N months (UTC). */
  monthly?: number;
  /** … of each of the last N years (UTC). */
  yearly?: number;
  /** Keep every backup taken within this many milliseconds before the newest one. */
  within?: number;
}

type CalendarRule = "hourly" | "daily" | "weekly" | "monthly" | "yearly";
const RULES = ["last", "hourly", "daily", "weekly", "monthly", "yearly", "within"] as const;

export function keepLast(n: number): RetentionPolicy {
  return normalizeRetention(n);
}

/** Validates a `retention` option: a whole number >= 1 (keep last N) or a policy object. */
export function normalizeRetention(value: unknown, option = "retention"): RetentionPolicy {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new ConfigError(option, `must be a whole number >= 1 (backups to keep), got ${value}`);
    }
    return { last: value };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(option, "must be a number or a policy object such as { last: 7, daily: 14 }");
  }
  const policy: RetentionPolicy = {};
  for (const [field, v] of Object.entries(value)) {
    if (!(RULES as readonly string[]).includes(field)) {
      throw new ConfigError(`${option}.${field}`, `unknown rule (known: ${RULES.join(", ")})`);
    }
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw new ConfigError(`${option}.${field}`, `must be a whole number >= 0, got ${JSON.stringify(v)}`);
    }
    policy[field as keyof RetentionPolicy] = v;
  }
  if (!RULES.some((r) => (policy[r] ?? 0) > 0)) {
    throw new ConfigError(option, "keeps nothing: set at least one rule above 0");
  }
  return policy;
}

export interface RetentionCandidate {
  key: string;
  timestamp: Date;
  /** Has valid metadata with a checksum. */
  verified: boolean;
  /** Dated more than `FUTURE_TOLERANCE_MS` ahead of the clock when listed (`isFutureDated`); `list()` sets it. */
  futureDated?: boolean;
  /** ISO time until which the storage refuses to delete it (metadata `lockedUntil`). */
  lockedUntil?: string | undefined;
}

/**
 * How far ahead of this clock a key's timestamp may be and still count as now: NTP keeps
 * healthy hosts well within it, and it is small against any sensible retention bucket or
 * `--max-age`, so a key past it is a wrong clock or a forged key, not a real recent backup.
 */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

/** The one test for "this key is dated in the future", shared by retention, `list` and `status`. */
export function isFutureDated(timestamp: Date, now: number): boolean {
  return timestamp.getTime() - now > FUTURE_TOLERANCE_MS;
}

/** The newest backup that retention and freshness may rely on: verified and not future-dated. `sorted` is newest first. */
export function newestVerified<T extends RetentionCandidate>(sorted: readonly T[]): T | undefined {
  return sorted.find((b) => b.verified && b.futureDated !== true);
}

export interface RetentionDecision {
  key: string;
  keep: boolean;
  /** Why it is kept (rules that chose it), or why it goes (`"outside policy"`). */
  reasons: string[];
}

function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${week}`;
}

const BUCKET: Record<CalendarRule, (d: Date) => string> = {
  hourly: (d) => d.toISOString().slice(0, 13),
  daily: (d) => d.toISOString().slice(0, 10),
  weekly: isoWeek,
  monthly: (d) => d.toISOString().slice(0, 7),
  yearly: (d) => d.toISOString().slice(0, 4),
};

/**
 * Decides, for each backup, whether the policy keeps it. The keys in `protect` (the backup
 * just made), the newest verified backup, every future-dated backup and every backup still
 * locked at `now` are always kept, whatever the policy says. Returns decisions newest first.
 */
export function planRetention(
  backups: readonly RetentionCandidate[],
  policy: RetentionPolicy,
  protect: ReadonlySet<string> = new Set(),
  now: number = Date.now(),
): RetentionDecision[] {
  const sorted = [...backups].sort(compareNewestFirst);
  const reasons = new Map<string, string[]>(sorted.map((b) => [b.key, []]));
  const keep = (key: string, reason: string) => reasons.get(key)!.push(reason);

  // Future-dated backups take no part in the policy: as "the newest" they would fill its slots
  // and date its buckets, and seven keys dated 2099 once pushed every real backup out. Nor are
  // they deleted: one may hold the latest data of a host with a wrong clock, and a date we
  // cannot trust is no ground for deleting. Once their date passes they are ordinary backups.
  const dated = sorted.filter((b) => b.futureDated !== true);
  for (const b of sorted) if (b.futureDated === true) keep(b.key, "future-dated");

  dated.slice(0, policy.last ?? 0).forEach((b) => keep(b.key, "last"));
  for (const rule of Object.keys(BUCKET) as CalendarRule[]) {
    let left = policy[rule] ?? 0;
    let previous: string | undefined;
    for (const b of dated) {
      if (left <= 0) break;
      const bucket = BUCKET[rule](b.timestamp);
      if (bucket === previous) continue;
      previous = bucket;
      keep(b.key, rule);
      left--;
    }
  }
  if (policy.within && dated[0]) {
    const since = dated[0].timestamp.getTime() - policy.within;
    for (const b of dated) if (b.timestamp.getTime() >= since) keep(b.key, "within");
  }
  const newest = newestVerified(sorted);
  if (newest) keep(newest.key, "newest verified");
  for (const b of sorted) if (protect.has(b.key)) keep(b.key, "just made");
  // The storage would refuse the delete; trying would fail the whole prune.
  for (const b of sorted) if (b.lockedUntil && Date.parse(b.lockedUntil) > now) keep(b.key, `locked until ${b.lockedUntil}`);

  return sorted.map((b) => {
    const why = reasons.get(b.key)!;
    return why.length > 0 ? { key: b.key, keep: true, reasons: why } : { key: b.key, keep: false, reasons: ["outside policy"] };
  });
}
