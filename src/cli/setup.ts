/** Turns a configuration into a working backupper: the storage adapter, and the source detected from the file itself. */
import { tmpdir } from "node:os";
import { dirname, resolve } from "node:path";
import { s3Adapter } from "../adapters/s3.js";
import { fsAdapter } from "../adapters/fs.js";
import { createBackupper, type Backupper } from "../backupper.js";
import type { BackupHooks } from "../events.js";
import { BackupError, ConfigError } from "../errors.js";
import { fileSource } from "../sources/file.js";
import { sqliteOrFileDrill, sqliteOrFileTarget, sqliteSource } from "../sources/sqlite.js";
import { isSqliteHeader, readHeader } from "../sources/sqlite/header.js";
import type { Source, StorageAdapter } from "../types.js";
import { notifyOn } from "../notify/listen.js";
import { createNotifier, type Notifier } from "../notify/notifier.js";
import { resolveNotify } from "../notify/options.js";
import { backupperSettings, type CliConfig, type Destination } from "./config.js";
import { loadEncryption } from "./encryption.js";
import type { Output } from "./output.js";
import { reportRetries } from "./retries.js";

type SourceKind = "sqlite" | "file";

/**
 * True when the source at `path` starts with the SQLite header. A FIFO, device or directory
 * rejects with a `SourceError` (without being opened in a way that could block); a missing
 * or unreadable file is a plain file here: its snapshot says why it cannot be read, and
 * `status` still works for a user who may not read it.
 */
async function isSqliteFile(path: string): Promise<boolean> {
  try {
    return isSqliteHeader(await readHeader(path, "source"));
  } catch (error) {
    if (BackupError.is(error)) throw error;
    return false;
  }
}

function adapterFor(destination: Destination): StorageAdapter {
  return destination.kind === "dir" ? fsAdapter({ root: destination.root }) : s3Adapter(destination.options);
}

/** `s3://bucket/backups/ at https://endpoint` or `/var/backups/backups/`: where the backups are, for messages. */
export function describeDestination(config: CliConfig): string {
  const d = config.destination;
  if (d.kind === "dir") return `${d.root.replace(/\/+$/, "")}/${config.prefix}`;
  return `s3://${d.options.bucket}/${config.prefix}${d.options.endpoint ? ` at ${d.options.endpoint}` : ""}`;
}

async function sourceAt(path: string, name: string): Promise<{ source: Source; kind: SourceKind }> {
  if (await isSqliteFile(path)) return { source: sqliteSource({ path, name }), kind: "sqlite" };
  return { source: fileSource(path, { name }), kind: "file" };
}

/** For commands that only read the bucket: nothing to snapshot. */
function noSource(name: string): Source {
  return {
    name,
    snapshot: () => Promise.reject(new ConfigError("BACKUP_SOURCE", "is required to take a backup (or --source)")),
  };
}

export interface Setup {
  backupper: Backupper;
  /** What the source holds, by its header; undefined without one. */
  kind: SourceKind | undefined;
  /** What a restore wrote, by the restored bytes (a SQLite database is integrity-checked); undefined before one passed its checks. */
  restoredKind(): SourceKind | undefined;
  /** Alerts (BACKUP_NOTIFY_*): already listening to the backupper; a command awaits `idle()` before it exits, so none is cut off. */
  notifier: Notifier;
}

/** The alerts of `config`, made here rather than by `createBackupper` so that the command can wait for them; failures are warned about. */
function notifierFor(config: CliConfig, out: Output): Notifier {
  const options = resolveNotify(config.notify && { ...config.notify, onError: (error: Error) => out.warn(`backupper: ${error.message}`) });
  return options ? createNotifier(options, { name: config.name, prefix: config.prefix }, out.redact) : { send: () => undefined, idle: async () => undefined };
}

/**
 * `out` hears what is worth saying but not fatal (a key file others may read), the secrets read
 * from key files, and every retry of the storage (unless `on` has its own `retrying`).
 */
export async function setUp(config: CliConfig, out: Output, on: BackupHooks = {}): Promise<Setup> {
  const found = config.source === undefined ? undefined : await sourceAt(config.source, config.name);
  const source = found?.source ?? noSource(config.name);
  // A backup takes its kind from the file backed up; a restore from the bytes restored,
  // whatever is at the target now (sqliteOrFileTarget).
  const home = config.source ?? config.to;
  let restored: SourceKind | undefined;
  // A drill likewise, in a private directory next to the source (whose file system has room for a copy), or in the temp directory without one.
  const drillParent = config.source === undefined ? tmpdir() : dirname(resolve(config.source));
  const backupper = createBackupper({
    adapter: adapterFor(config.destination),
    source: {
      ...source,
      ...(home === undefined ? {} : { target: (to?: string) => sqliteOrFileTarget(to ?? home, (kind) => (restored = kind)) }),
      drill: () => sqliteOrFileDrill(drillParent, config.drillQuery),
    },
    ...backupperSettings(config),
    encryption: await loadEncryption(config.encryption, out),
    on: { retrying: reportRetries(out, config.json), ...on },
  });
  const notifier = notifierFor(config, out);
  notifyOn(backupper, notifier);
  return { backupper, kind: found?.kind, restoredKind: () => restored, notifier };
}
