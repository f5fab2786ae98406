/**
 * A streamed upload holds at most partSize × (concurrency + 1) bytes of body, however long
 * the stream: peak RSS of a child process uploading 4× more data grows by far less than the
 * extra data (and less than one part set).
 */

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const MiB = 1024 * 1024;
const CHILD = fileURLToPath(new URL("../helpers/s3-upload-child.ts", import.meta.url));

function upload(size: number): { peakRss: number; received: number; uploads: number } {
  const run = spawnSync(process.execPath, ["--import", "tsx", CHILD, String(size)], { encoding: "utf8", timeout: 120_000 });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { peakRss: number; received: number; uploads: number };
}

it("uploads 512 MiB in about the memory of 128 MiB (bounded part buffers)", () => {
  const small = upload(128 * MiB);
  const large = upload(512 * MiB);
  expect(small).toMatchObject({ received: 128 * MiB, uploads: 1 });
  expect(large).toMatchObject({ received: 512 * MiB, uploads: 1 });
  // Four 8 MiB parts in flight + one filling (+ fetch's copy of each part in flight) either
  // way; measured here: +26 MiB of RSS for 384 MiB more data, from GC timing alone.
  expect(large.peakRss - small.peakRss).toBeLessThan(64 * MiB);
});
