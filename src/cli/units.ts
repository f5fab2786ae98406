/** Durations and sizes as people type and read them: `26h`, `1h30m`, `12.3 MiB`, `3h ago`. */

const MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/** Milliseconds from a plain number (`21600000`) or units (`30m`, `6h`, `2d`, `1h30m`); undefined if neither. */
export function parseDuration(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  if (text === "") return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (!match) return undefined;
    total += Number(match[1]) * MS[match[2]!]!;
  }
  return Math.round(total);
}

/** `90061000` → `1d1h1m1s`; the largest units, down to ms only when there is nothing larger. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1000) * 1000;
  let out = "";
  for (const unit of ["d", "h", "m", "s"] as const) {
    const n = Math.floor(rest / MS[unit]!);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * MS[unit]!;
  }
  return out;
}

/** `3h ago`: one unit, rounded down, the way people glance at a backup's age. */
export function formatAge(ms: number): string {
  if (ms < 0) return "in the future";
  if (ms < 60_000) return `${Math.floor(ms / 1000)}s ago`;
  const unit = ms >= MS.d! ? "d" : ms >= MS.h! ? "h" : "m";
  return `${Math.floor(ms / MS[unit]!)}${unit} ago`;
}

const SIZE_UNITS = ["KiB", "MiB", "GiB", "TiB"];

/** Binary units with three significant digits: `512 B`, `1.50 KiB`, `12.3 MiB`, `200 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = "B";
  for (const next of SIZE_UNITS) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
  return `${value.toFixed(digits)} ${unit}`;
}
