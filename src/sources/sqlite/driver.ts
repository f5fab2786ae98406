/**
 * The three SQLite drivers a JavaScript host uses — `better-sqlite3`, `bun:sqlite` and
 * `node:sqlite` — reduced to the little backupper needs: run a statement, read rows, open a
 * file read-only. All three share `prepare(sql).run(...)` / `.all()` / `close()`; they differ
 * in how a handle names its file and how read-only is spelled, which is all this file knows.
 * No driver is imported statically: a handle's own constructor opens further files, and a
 * runtime driver is loaded on demand.
 */

type DriverName = "better-sqlite3" | "bun:sqlite" | "node:sqlite";

interface SqliteConnection {
  run(sql: string, ...params: unknown[]): void;
  all(sql: string): Record<string, unknown>[];
  close(): void;
}

export interface SqliteDriver {
  readonly name: DriverName;
  /** Opens an existing file read-only; throws the driver's error when it cannot. */
  openReadOnly(path: string): SqliteConnection;
  /**
   * How another thread loads the same driver (the runtime's own; a caller's handle has a class
   * no other thread can be given): the module to import, its export, and the read-only options.
   */
  readonly module?: DriverModule;
}

export interface DriverModule {
  readonly specifier: string;
  readonly exportName: string;
  readonly readOnly: object;
}

/** A caller's open handle, recognised by shape. */
export interface SqliteHandle {
  readonly driver: SqliteDriver;
  readonly connection: SqliteConnection;
  /** The file the handle is open on; `null` for an in-memory database; undefined when the driver cannot tell. */
  readonly filename: string | null | undefined;
}

interface Statement {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

interface AnyDatabase {
  prepare(sql: string): Statement;
  close(): void;
  [member: string]: unknown;
}

type DatabaseClass = new (path: string, options?: object) => AnyDatabase;

function connection(db: AnyDatabase): SqliteConnection {
  return {
    run: (sql, ...params) => void db.prepare(sql).run(...params),
    all: (sql) => db.prepare(sql).all() as Record<string, unknown>[],
    close: () => db.close(),
  };
}

const READ_ONLY: Record<DriverName, object> = {
  "better-sqlite3": { readonly: true, fileMustExist: true },
  "bun:sqlite": { readonly: true },
  "node:sqlite": { readOnly: true },
};

/**
 * How long a connection of ours waits for a lock: in rollback-journal mode a commit briefly
 * locks out readers, and `VACUUM INTO` should wait for it rather than fail.
 */
const BUSY_TIMEOUT_MS = 10_000;

function driver(name: DriverName, Database: DatabaseClass, module?: DriverModule): SqliteDriver {
  return {
    name,
    ...(module ? { module } : {}),
    openReadOnly(path) {
      const db = connection(new Database(path, READ_ONLY[name]));
      db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      return db;
    },
  };
}

const isFunction = (value: unknown): value is (...args: unknown[]) => unknown => typeof value === "function";

/** Recognises a `better-sqlite3`, `bun:sqlite` or `node:sqlite` handle; undefined for anything else. */
export function recogniseHandle(db: unknown): SqliteHandle | undefined {
  if (typeof db !== "object" || db === null) return undefined;
  const d = db as AnyDatabase;
  // The handle's own class opens the snapshot and restore files for integrity_check.
  if (!isFunction(d.prepare) || !isFunction(d.close) || !isFunction(d.constructor)) return undefined;
  const Database = d.constructor as unknown as DatabaseClass;
  // node:sqlite (Node >= 24, Deno, Bun's compatibility module) also has `serialize` and
  // `function`, so each driver is told apart by a member only it has.
  if (isFunction(d.backup) && isFunction(d.pragma)) {
    return { driver: driver("better-sqlite3", Database), connection: connection(d), filename: d.memory ? null : String(d.name) };
  }
  if (isFunction(d.query) && typeof d.filename === "string") {
    const memory = d.filename === "" || d.filename === ":memory:";
    return { driver: driver("bun:sqlite", Database), connection: connection(d), filename: memory ? null : d.filename };
  }
  if (isFunction(d.exec) && (isFunction(d.location) || Database.name === "DatabaseSync")) {
    // location() appeared in Node 24 / 22.16; older node:sqlite cannot say which file it has open.
    const filename = isFunction(d.location) ? ((d.location() as string | null) ?? null) : undefined;
    return { driver: driver("node:sqlite", Database), connection: connection(d), filename };
  }
  return undefined;
}

const CANDIDATES: readonly { name: DriverName; specifier: string; exportName: string }[] = [
  { name: "bun:sqlite", specifier: "bun:sqlite", exportName: "Database" },
  { name: "node:sqlite", specifier: "node:sqlite", exportName: "DatabaseSync" },
  { name: "better-sqlite3", specifier: "better-sqlite3", exportName: "default" },
];

/** A module's class by its export name; `default` also takes a CommonJS module itself. Shared with the check thread's loader (check-thread.ts). */
export const pickExport = (mod: Record<string, unknown>, exportName: string): unknown =>
  exportName === "default" ? (mod.default ?? mod) : mod[exportName];

/** Where this module would load `specifier` from, so that a worker thread loads the same file; the specifier itself where the runtime cannot say. */
function resolved(specifier: string): string {
  try {
    return (import.meta as { resolve?: (s: string) => string }).resolve?.(specifier) ?? specifier;
  } catch {
    return specifier;
  }
}

let runtimeDriver: Promise<SqliteDriver | undefined> | undefined;

/**
 * The first driver this runtime can load, in the order bun:sqlite (Bun), node:sqlite (Node
 * >= 22.13 or 23.4 without a flag, Deno), better-sqlite3 (if installed); undefined when none
 * loads. The specifier is a variable so bundlers leave the import to run time.
 */
export function loadRuntimeDriver(): Promise<SqliteDriver | undefined> {
  runtimeDriver ??= (async () => {
    const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
    for (const candidate of CANDIDATES) {
      if (candidate.name === "bun:sqlite" && !isBun) continue;
      const specifier: string = candidate.specifier;
      try {
        const Database = pickExport((await import(specifier)) as Record<string, unknown>, candidate.exportName);
        if (isFunction(Database)) {
          const module = { specifier: resolved(specifier), exportName: candidate.exportName, readOnly: READ_ONLY[candidate.name] };
          return driver(candidate.name, Database as unknown as DatabaseClass, module);
        }
      } catch {
        // Not available on this runtime (or not installed): try the next one.
      }
    }
    return undefined;
  })();
  return runtimeDriver;
}
