/**
 * The exported conformance suite (`backupper/testing`, src/testing.ts) as vitest tests: each
 * adapter's test file calls `describeAdapterConformance` with a setup that returns a ready adapter.
 */

import { afterAll, beforeAll, describe, it } from "vitest";
import { adapterConformance, type ConformanceOptions, type ConformanceSetup } from "../../src/testing.js";

export { listAll, readAll } from "../../src/testing.js";

export function describeAdapterConformance(label: string, setup: () => Promise<ConformanceSetup>, opts: ConformanceOptions = {}): void {
  describe(`${label}: StorageAdapter conformance`, () => {
    const suite = adapterConformance(setup, opts);
    beforeAll(suite.setup);
    afterAll(suite.cleanup);
    for (const check of suite.checks) it(check.name, check.run, check.timeout);
  });
}
