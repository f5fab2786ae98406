/**
 * Checks that a file is a usable SQLite database: the 16-byte header, then (optionally)
 * `PRAGMA integrity_check` through a driver. Used on a fresh snapshot before it is uploaded,
 * on a staged restore before it replaces the live database, and on a drill's restored copy.
 */
import { rm } from "node:fs/promises";
import { messageOf } from "../../errors.js";
import type { DrillCheck } from "../../types.js";
import type { SqliteDriver } from "./driver.js";
import { HEADER_SIZE, isSqliteHeader, readHeader } from "./header.js";

/** Problems reported at most; a badly damaged file would otherwise list thousands. */
export const MAX_PROBLEMS = 5;

/** Why `file` is not a SQLite database, or undefined when its header is sound. */
export async function headerProblem(file: string): Promise<string | undefined> {
  const header = await readHeader(file, "restored file");
  if (header.byteLength < HEADER_SIZE) return `only ${header.byteLength} bytes, shorter than a SQLite header`;
  if (!isSqliteHeader(header)) return `no "SQLite format 3" header`;
  // Page size: a power of two from 512 to 32768, or 1 meaning 65536.
  const pageSize = (header[16]! << 8) | header[17]!;
  const valid = pageSize === 1 || (pageSize >= 512 && pageSize <= 32768 && (pageSize & (pageSize - 1)) === 0);
  return valid ? undefined : `invalid page size ${pageSize} in the header`;
}

/**
 * What `PRAGMA integrity_check` (or the cheaper `quick_check`) reports for `file` (empty when it
 * says "ok"). A driver error while opening or reading (e.g. "database disk image is malformed")
 * is itself a problem.
 */
export async function integrityProblems(driver: SqliteDriver, file: string, pragma: "integrity_check" | "quick_check" = "integrity_check"): Promise<string[]> {
  try {
    const db = driver.openReadOnly(file);
    try {
      return problemsIn(db.all(`PRAGMA ${pragma}(${MAX_PROBLEMS})`).map((row) => String(Object.values(row)[0])));
    } finally {
      db.close();
    }
  } catch (error) {
    return [messageOf(error)];
  } finally {
    // A read-only connection on a file whose header says WAL mode creates empty `-wal` and
    // `-shm` files it cannot remove; `file` is ours, so they are too.
    await Promise.all(["-wal", "-shm"].map((suffix) => rm(file + suffix, { force: true })));
  }
}

/** The problems in what an integrity check returned: none when it says only "ok". */
export const problemsIn = (rows: string[]): string[] => (rows.length === 1 && rows[0] === "ok" ? [] : rows);

/**
 * A drill's checks of a restored database copy: the header, then (only when it is sound)
 * `PRAGMA integrity_check`, then `query` when given, whose first column of its first row is
 * reported as `value`. The copy is opened read-only, so a query cannot change it.
 */
export async function drillChecks(driver: () => Promise<SqliteDriver>, file: string, query: string | undefined): Promise<DrillCheck[]> {
  const header = await headerProblem(file);
  if (header) return [{ name: "header", ok: false, detail: header }];
  const problems = await integrityProblems(await driver(), file);
  const checks: DrillCheck[] = [
    { name: "header", ok: true, detail: "SQLite format 3" },
    { name: "integrity_check", ok: problems.length === 0, detail: problems.length === 0 ? "ok" : problems.join("; ") },
  ];
  if (query !== undefined && problems.length === 0) checks.push(await queryCheck(await driver(), file, query));
  return checks;
}

/** `query` on `file`; whatever the driver leaves next to it (`-wal`, `-shm`) goes with the drill's directory. */
async function queryCheck(driver: SqliteDriver, file: string, query: string): Promise<DrillCheck> {
  try {
    const db = driver.openReadOnly(file);
    try {
      const first = db.all(query)[0];
      const value = first === undefined ? null : reportable(Object.values(first)[0]);
      return { name: "query", ok: true, detail: `${query} = ${first === undefined ? "(no rows)" : String(value)}`, value };
    } finally {
      db.close();
    }
  } catch (error) {
    return { name: "query", ok: false, detail: `${query}: ${messageOf(error)}` };
  }
}

/** A column value as JSON can carry it: integers too large for a number and blobs become strings. */
function reportable(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "string") return value;
  if (value instanceof Uint8Array) return `<blob of ${value.byteLength} bytes>`;
  return String(value);
}
