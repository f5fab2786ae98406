/**
 * A streamed upload holds at most partSize × (concurrency + 1) bytes of body, however long
 * the stream: peak RSS of a child process uploading 4× more data grows by far less than the
 * extra data (and less than one part set); and the parts are sent as they are, not copied for
 * each request (Node's fetch copies a Uint8Array body into every Request built from it).
 */

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const MiB = 1024 * 1024;
const CHILD = fileURLToPath(new URL("../helpers/s3-upload-child.ts", import.meta.url));

interface Upload {
  peakRss: number;
  peakBuffers: number;
  partBuffers: number;
  received: number;
  uploads: number;
}

function upload(size: number, partSize = 8 * MiB): Upload {
  const run = spawnSync(process.execPath, ["--import", "tsx", CHILD, String(size), String(partSize)], { encoding: "utf8", timeout: 120_000 });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Upload;
}

it("uploads 512 MiB in about the memory of 128 MiB (bounded part buffers)", () => {
  const small = upload(128 * MiB);
  const large = upload(512 * MiB);
  expect(small).toMatchObject({ received: 128 * MiB, uploads: 1 });
  expect(large).toMatchObject({ received: 512 * MiB, uploads: 1 });
  // Four 8 MiB parts in flight + one filling either way; measured here: +26 MiB of RSS for
  // 384 MiB more data, from GC timing alone.
  expect(large.peakRss - small.peakRss).toBeLessThan(64 * MiB);
});

it("holds no copy of the parts in flight: ArrayBuffers stay within the part buffers and the source's chunks", () => {
  // Large parts, so that a copy of each part in flight stands out of the garbage between
  // collections (the source's 256 KiB chunks, the server's reads, in this one process).
  const { peakBuffers, partBuffers } = upload(512 * MiB, 32 * MiB);
  // Measured on Node 20: 160 MiB of part buffers, and peaks of 175-195 MiB without copies,
  // 315-342 MiB with one per request (128 MiB in flight, plus finished parts' copies not yet collected).
  expect(peakBuffers).toBeLessThan(partBuffers + 64 * MiB);
});
