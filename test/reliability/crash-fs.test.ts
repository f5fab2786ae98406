/** SIGKILL at every crash point against the fs adapter (see crash.ts for the matrix and the checks). */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fsAdapter } from "../../src/fs.js";
import { crashSuite } from "./crash.js";

/** Temp files of puts that never finished (`.<name>.tmp-<12 hex>`), anywhere under root. */
async function putTemps(root: string): Promise<number> {
  const entries = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((e) => /(^|\/)\..+\.tmp-[0-9a-f]{12}$/.test(e)).length;
}

describe("crash: fs adapter", () => {
  const totals = crashSuite(
    "fs",
    async () => {
      const root = await mkdtemp(join(tmpdir(), "backupper-crash-store-"));
      return {
        adapter: fsAdapter({ root }),
        child: { kind: "fs", root },
        orphans: () => putTemps(root),
        cleanup: () => rm(root, { recursive: true, force: true }),
      };
    },
    import.meta.filename,
  );

  // The next run's prune asks the adapter to sweep leftovers of killed puts (optional
  // `cleanupIncomplete`). Until the fs adapter has it, a put killed mid-write leaves its `.tmp-`
  // file forever: this asserts the leftovers exist, so the test flips the day it lands.
  it("temp files of killed puts: removed by the next run when the fs adapter sweeps them, else counted as a gap", () => {
    const left = [...totals.orphansAfterNextRun.values()].reduce((a, b) => a + b, 0);
    if (typeof fsAdapter({ root: "/nonexistent" }).cleanupIncomplete === "function") expect(left).toBe(0);
    else expect(left, "kills mid-put must leave temp files while there is no sweep").toBeGreaterThan(0);
  });

  // Restore temp files (`<target>.restore-<id>`) belong to no adapter, so no prune can sweep them.
  it("restore temp files of killed restores are left next to the target (a gap: counted, not cleaned)", () => {
    const left = [...totals.restoreTempsLeft.values()].reduce((a, b) => a + b, 0);
    expect(left).toBeGreaterThan(0);
  });
});
