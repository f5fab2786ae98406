import { defineConfig } from "vitest/config";

/**
 * Three projects, so that anyone can run the fast part anywhere:
 * - unit: no servers, no child runtimes (`npm run test:unit`);
 * - integration: Ceph RGW, s3rver, the built bin and package in child processes, the Linux
 *   rename-exchange race against the fs adapter;
 * - runtimes: the built package on Node 24, Bun, Deno and workerd.
 * `npm test` runs all three. A file that needs a server but is left in `unit` fails loudly: the
 * unit project provides none.
 */
const RUNTIMES = ["test/runtimes/**/*.test.ts", "test/package/jsr.test.ts", "test/codec/runtimes.test.ts", "test/sources/sqlite-runtimes.test.ts"];
const INTEGRATION = [
  "test/adapters/age-interop.test.ts",
  "test/adapters/fs-symlinks.test.ts",
  "test/adapters/s3-conformance.test.ts",
  "test/adapters/s3-rgw.test.ts",
  "test/adapters/s3-rgw-lock.test.ts",
  "test/adapters/s3-memory.test.ts",
  "test/adapters/testing-export.test.ts",
  "test/cli/bin.test.ts",
  "test/cli/lease-rgw.test.ts",
  "test/cli/notify-bin.test.ts",
  "test/cli/metrics-promtool.test.ts",
  "test/cli/outage-bin.test.ts",
  "test/cli/review-*.test.ts",
  "test/core/drill-rgw.test.ts",
  "test/core/large.test.ts",
  "test/codec/memory.test.ts",
  "test/reliability/crash-*.test.ts",
  "test/reliability/faults.test.ts",
  "test/reliability/load.test.ts",
  "test/reliability/outages.test.ts",
  "test/reliability/security.test.ts",
  "test/reliability/review-*.test.ts",
];

const shared = { testTimeout: 120_000, hookTimeout: 180_000, pool: "forks" as const };

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: "unit", include: ["test/**/*.test.ts"], exclude: [...RUNTIMES, ...INTEGRATION] } },
      { test: { ...shared, name: "integration", include: INTEGRATION, globalSetup: ["test/setup/s3.ts"] } },
      { test: { ...shared, name: "runtimes", include: RUNTIMES, globalSetup: ["test/setup/s3.ts"] } },
    ],
  },
});
