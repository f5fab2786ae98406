/** The one check of a whole-number option, so every option says its range the same way. */

import { ConfigError } from "../errors.js";

/**
 * `value` when it is a whole number from `min` to `max`, `fallback` when it is undefined; else a
 * `ConfigError` naming `option` and the range, in `unit` when one is given (`milliseconds`).
 */
export function wholeNumber(option: string, value: unknown, fallback: number, min: number, max = Infinity, unit?: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = `from ${min}${max === Infinity ? " up" : ` to ${max}`}`;
    // String() for numbers: JSON says NaN and Infinity are null.
    const got = typeof value === "number" ? String(value) : JSON.stringify(value);
    throw new ConfigError(option, `must be a whole number${unit === undefined ? "" : ` of ${unit}`} ${range}, got ${got}`);
  }
  return value;
}

/** The longest delay a timer takes: a longer one fires at once. */
const MAX_DELAY_MS = 2_147_483_647;

/** A whole number of milliseconds from `min` up to the longest delay a timer takes, as `wholeNumber` checks it. */
export function milliseconds(option: string, value: unknown, fallback: number, min: number): number {
  return wholeNumber(option, value, fallback, min, MAX_DELAY_MS, "milliseconds");
}
