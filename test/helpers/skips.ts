/** Suites that need something this machine may lack, skipped where it is missing so that the run shows it. */
import { describe, it } from "vitest";

/**
 * `describe`, or where `missing` says why the suites cannot run `describe.skip`, with one more
 * skipped test named `<what>: NOT RUN, <missing>`: a test, because vitest lists no empty suite,
 * so a run without it shows the placeholder in its counts and under `--reporter verbose`. What
 * CI must run is the caller's to fail on before (the global setup does for RGW). Call it once
 * per reason a file has.
 */
export function describeUnless(missing: string | undefined, what: string): typeof describe.skip {
  if (missing === undefined) return describe;
  it.skip(`${what}: NOT RUN, ${missing}`);
  return describe.skip;
}
