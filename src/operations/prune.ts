/**
 * `prune()`: applies retention and removes incomplete objects past the grace period, all
 * planned from one listing. The storage guard confirms the deletes with one more.
 */
import { scan } from "../catalog.js";
import type { Context } from "../context.js";
import type { PruneReport } from "../events.js";
import { isKeyOf, metaKeyOf, namePrefix } from "../format/keys.js";
import { planRetention } from "../retention/policy.js";
import type { BackupInfo } from "../types.js";
import { describeAll } from "./list.js";

const VERSIONED_NOTE =
  "the storage is versioned (object lock): a delete leaves a delete marker and keeps the noncurrent versions, billed until a lifecycle rule expiring noncurrent versions and delete markers removes them";

export interface PruneRequest {
  dryRun: boolean;
  /** Kept whatever the policy says: the backup just made. */
  protect: ReadonlySet<string>;
  signal?: AbortSignal | undefined;
}

/** The report, and the backups there are after the prune (all of them on a dry run). */
export async function prune(ctx: Context, req: PruneRequest): Promise<{ report: PruneReport; remaining: BackupInfo[] }> {
  const { storage, scope, options } = ctx;
  const { dryRun, signal } = req;
  const catalog = await scan(storage, scope, signal);
  const backups = await describeAll(ctx, catalog.backups, signal);
  const decisions = planRetention(
    backups.map((b) => ({ ...b, lockedUntil: b.meta?.lockedUntil })),
    options.retention,
    req.protect,
  );
  const deleted = decisions.filter((d) => !d.keep);
  const doomed = deleted.map((d) => d.key);
  const staleBefore = Date.now() - options.incompleteGrace;
  const stale = catalog.incomplete.filter((e) => e.age.getTime() < staleBefore).map((e) => e.key);
  let abandonedUploads: string[] = [];
  if (!dryRun) {
    // Metadata first: a prune interrupted here leaves an incomplete backup, never a marker without data.
    await storage.delete([doomed.map(metaKeyOf), [...doomed, ...stale]], signal);
    if (storage.capabilities.cleanupIncomplete) {
      abandonedUploads = await storage.cleanupIncomplete(namePrefix(scope.prefix, scope.name), new Date(staleBefore), {
        signal,
        match: (key) => isKeyOf(scope.prefix, scope.name, key),
      });
    }
  }
  const report: PruneReport = {
    dryRun,
    deleted: deleted.map((d) => ({ key: d.key, reason: d.reasons.join(", ") })),
    kept: decisions.filter((d) => d.keep).map((d) => ({ key: d.key, reasons: d.reasons })),
    incomplete: stale,
    abandonedUploads,
    ...(storage.capabilities.objectLock ? { notes: [VERSIONED_NOTE] } : {}),
  };
  if (!dryRun) ctx.emitter.emit("pruned", report);
  const gone = new Set(dryRun ? [] : doomed);
  return { report, remaining: backups.filter((b) => !gone.has(b.key)) };
}
