import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const child = fileURLToPath(new URL("./memory-child.ts", import.meta.url));
const MiB = 1024 * 1024;

async function pipeline(name: string, size: number) {
  const { stdout } = await run(process.execPath, ["--import", "tsx", child, name, String(size)], {
    maxBuffer: MiB,
  });
  const result = JSON.parse(stdout) as { original: string; restored: string; size: number; maxRssMiB: number };
  expect(result.size).toBe(size);
  expect(result.restored).toBe(result.original);
  return result.maxRssMiB;
}

describe.each(["native", "portable"])("%s codec memory", (name) => {
  it("gzip + gunzip + hash of a 512 MiB stream: peak RSS far below the data, flat in its size", async () => {
    const small = await pipeline(name, 32 * MiB);
    const large = await pipeline(name, 512 * MiB);
    // The child's baseline (Node + tsx) is ~90 MiB of this.
    expect(large).toBeLessThan(200);
    expect(large - small).toBeLessThan(32);
  }, 300_000);
});
