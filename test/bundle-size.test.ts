import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types, shared with the benchmark report.
import { bundleSize } from "../bench/bundle-size.mjs";

/**
 * The budget for `createBackupper` + `s3Adapter`, bundled for a browser/Worker and gzipped, is
 * 15 kB; it is not met yet (see bench/RESULTS.md for the per-module breakdown). Until then this
 * ceiling keeps the bundle from growing unnoticed: lower it whenever the bundle shrinks, and
 * raise it only in a commit that says what the bytes bought. Last raised from 27 600 (27 382
 * measured) to 29 000 for age encryption's own code: the stage, its options' validation and the
 * `DecryptionError` messages (age-encryption itself is imported dynamically and not counted),
 * and the source's `mode` carried to the restore target.
 * Before that from 27 000 for the review fixes (capped, linear-time S3 answers; redaction of JSON
 * output; the cap on metadata-less restores; future-dated keys; the branded error family).
 */
const CEILING = 29_000;
const TARGET = 15_000;

describe("bundle size (esbuild, minified, gzip -9)", () => {
  it(`backupper + backupper/s3 stays under ${CEILING} bytes (target ${TARGET})`, async () => {
    const { gzipped, minified, lazyAge } = (await bundleSize("browser")) as { gzipped: number; minified: number; lazyAge: boolean };
    expect(minified).toBeGreaterThan(gzipped);
    expect(lazyAge).toBe(true);
    expect(gzipped).toBeLessThanOrEqual(CEILING);
  }, 60_000);
});
