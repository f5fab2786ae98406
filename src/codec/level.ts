import { ConfigError } from "../errors.js";

/** The gzip level to use: `level` checked to be an integer 0-9, default 6 (as `gzip`). */
export function gzipLevel(level: number | undefined): 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 {
  if (level === undefined) return 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new ConfigError("level", `must be an integer from 0 to 9, got ${String(level)}`);
  }
  return level as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

/** The zstd level to use: `level` checked to be an integer 1-19, default 3 (as `zstd`). */
export function zstdLevel(level: number | undefined): number {
  if (level === undefined) return 3;
  if (!Number.isInteger(level) || level < 1 || level > 19) {
    throw new ConfigError("level", `must be an integer from 1 to 19, got ${String(level)}`);
  }
  return level;
}
