/** SIGKILL at every crash point against Ceph RGW (see crash.ts for the matrix and the checks). */
import { expect, it } from "vitest";
import { adapterOptions, rawS3, rgwDescribe, s3TestAdapter } from "../helpers/s3.js";
import { crashSuite } from "./crash.js";
import { openUploads } from "./s3-uploads.js";

const describeRgw = rgwDescribe("crash on Ceph RGW");

describeRgw("crash: Ceph RGW", () => {
  const totals = crashSuite(
    "rgw",
    async () => {
      const t = await s3TestAdapter("rgw", { partSize: 5 * 1024 * 1024, concurrency: 1 });
      return {
        adapter: t.adapter,
        child: { kind: "s3", options: { ...adapterOptions(t.server, t.bucket) } },
        orphans: async () => (await openUploads(t.server, t.bucket)).length,
        async cleanup() {
          for (const u of await openUploads(t.server, t.bucket)) {
            await rawS3(t.server).fetch(`${t.bucket}/${encodeURIComponent(u.key)}?uploadId=${encodeURIComponent(u.uploadId)}`, { method: "DELETE" });
          }
          await t.cleanup();
        },
      };
    },
    import.meta.filename,
  );

  // The next run's prune asks the adapter to abort multipart uploads orphaned by a killed
  // process (optional `cleanupIncomplete`). Until the S3 adapter has it, they stay open (and
  // billed): this asserts they exist, so the test flips the day the sweep lands.
  it("multipart uploads orphaned by kills: aborted by the next run when the S3 adapter sweeps them, else counted as a gap", async () => {
    const left = [...totals.orphansAfterNextRun.values()].reduce((a, b) => a + b, 0);
    const t = await s3TestAdapter("rgw");
    const sweeps = typeof t.adapter.cleanupIncomplete === "function";
    await t.cleanup();
    if (sweeps) expect(left).toBe(0);
    else expect(left, "kills mid-multipart must leave uploads while there is no sweep").toBeGreaterThan(0);
  });
});
