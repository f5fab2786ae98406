/**
 * The exported conformance suite (`backupper/testing`, src/testing.ts) as vitest tests: each
 * adapter's test file calls `describeAdapterConformance` with a setup that returns a ready adapter.
 */

import { afterAll, beforeAll, describe, it } from "vitest";
import { adapterConformance, type ConformanceOptions, type ConformanceSetup } from "../../src/testing.js";

export { listAll, readAll } from "../../src/testing.js";

/** `describeFn`: `rgwDescribe(…)` where the storage may be absent, so the checks are skipped with a reason, not failed. */
export function describeAdapterConformance(label: string, setup: () => Promise<ConformanceSetup>, opts: ConformanceOptions = {}, describeFn: typeof describe.skip = describe): void {
  describeFn(`${label}: StorageAdapter conformance`, () => {
    const suite = adapterConformance(setup, opts);
    beforeAll(suite.setup);
    afterAll(suite.cleanup);
    for (const check of suite.checks) it(check.name, check.run, check.timeout);
  });
}
