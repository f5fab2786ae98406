/**
 * The private place a drill restores into: a fresh 0700 directory (mkdtemp) holding one 0600
 * file, written through `fileTarget` (so staged, fsynced and renamed like any restore), checked
 * by the source, then removed with its directory whatever happened. It is never the source's
 * own path, so a drill that fails anywhere leaves the source as it was.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { toTargetError } from "../errors.js";
import type { DrillCheck, DrillScratch } from "../types.js";
import { fileTarget } from "./file.js";

/** A scratch directory under `parent`; `check` examines the restored file at the path it is given. */
export async function drillScratch(parent: string, check: (file: string, signal?: AbortSignal) => Promise<DrillCheck[]>): Promise<DrillScratch> {
  let dir: string;
  try {
    dir = await mkdtemp(join(parent, ".backupper-drill-"));
  } catch (error) {
    throw toTargetError(error, parent, "cannot make the drill's temp directory");
  }
  const file = join(dir, "restored");
  const target = fileTarget(file);
  return {
    target: {
      description: file,
      // Whatever mode the backed-up file had, the drill's copy is this user's alone.
      begin: (opts) => target.begin({ ...opts, mode: 0o600 }),
    },
    check: (signal) => check(file, signal),
    dispose: () => rm(dir, { recursive: true, force: true }).catch(() => undefined),
  };
}
