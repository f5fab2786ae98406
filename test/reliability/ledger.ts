/**
 * The reliability ledger: every scenario a reliability test runs records what it injected, what
 * was expected, what was observed and how many bytes were lost. Each test file writes its rows
 * to `$RELIABILITY_OUT` (default `<tmpdir>/backupper-reliability`), and `report.mjs` turns
 * them into the table in docs/RELIABILITY.md, so the published counts are the measured ones.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, expect } from "vitest";

export interface LedgerRow {
  /** Scenario group: crash, fault, bad-input, security, load. */
  kind: string;
  scenario: string;
  expected: string;
  observed: string;
  /** Vitest test name that proves it. */
  test: string;
  /** Faults (kills, injected errors, corruptions) this scenario injected. */
  faults: number;
  /** Bytes of previously complete backups (or of a restore target) that were lost. */
  bytesLost: number;
}

export function ledger(file: string) {
  const rows: LedgerRow[] = [];
  afterAll(() => {
    const dir = process.env.RELIABILITY_OUT ?? join(tmpdir(), "backupper-reliability");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${basename(file).replace(/\.test\.ts$/, "")}.json`), JSON.stringify(rows, null, 2));
  });
  return {
    /** Records a row; the scenario counts as survived only if nothing was lost. */
    record(row: Omit<LedgerRow, "test"> & { test?: string }) {
      rows.push({ ...row, test: row.test ?? expect.getState().currentTestName ?? "?" });
    },
  };
}
