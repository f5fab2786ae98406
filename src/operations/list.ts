/** `list()`: the complete backups of a scope, newest first, each with its metadata read and checked. */
import { describeBackup, scan, type CatalogEntry } from "../catalog.js";
import type { Context } from "../context.js";
import type { BackupInfo } from "../types.js";
import { mapLimit } from "../util/concurrency.js";

const META_READS_IN_FLIGHT = 8;

export async function listBackups(ctx: Context, signal?: AbortSignal): Promise<BackupInfo[]> {
  return describeAll(ctx, (await scan(ctx.storage, ctx.scope, signal)).backups, signal);
}

/** The listed `entries` as `BackupInfo`, without those whose metadata vanished since the listing. */
export async function describeAll(ctx: Context, entries: readonly CatalogEntry[], signal?: AbortSignal): Promise<BackupInfo[]> {
  const described = await mapLimit(entries, META_READS_IN_FLIGHT, (entry) => describeBackup(ctx.storage, ctx.scope, entry, signal));
  return described.filter((info): info is BackupInfo => info !== undefined);
}
