import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackupper, streamSource } from "../../src/index.js";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { fsAdapter } from "../../src/fs.js";
import { generatedStream, sha256Generated } from "../helpers/data.js";
import { hashingTarget } from "../helpers/targets.js";

const MiB = 1 << 20;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "backupper-large-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("large streams", () => {
  const size = 512 * MiB + 12345;
  const expected = sha256Generated(size);

  it.each([
    ["memory", () => memoryAdapter()],
    ["fs", () => fsAdapter({ root: join(dir, "store") })],
  ])("a %s backup of 512 MiB restores byte-identical", async (_label, make) => {
    const b = createBackupper({ adapter: make(), source: streamSource(() => generatedStream(size), { name: "big", size }) });
    const info = await b.backup();
    expect(info).toMatchObject({ size, checksum: expected });
    const target = hashingTarget();
    await b.restore(info.key, { to: target });
    expect(target.result).toEqual({ size, sha256: expected });
  }, 300_000);

  it("a 1 GiB backup and restore to fs stay under 160 MiB peak RSS (built package, child process)", async () => {
    if (!existsSync(join(import.meta.dirname, "../../dist/index.js"))) throw new Error("dist/ is missing: run `npm run build` (npm test does)");
    const big = 1024 * MiB;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(import.meta.dirname, "../fixtures/rss-backup.mjs"), String(big), join(dir, "rss")],
      { maxBuffer: 1 << 20 },
    );
    const out = JSON.parse(stdout);
    console.log(`1 GiB backup+restore: peak RSS ${(out.peakRss / MiB).toFixed(1)} MiB (after backup ${(out.afterBackup / MiB).toFixed(1)} MiB)`);
    expect(out.size).toBe(big);
    expect(out.restored).toEqual({ size: big, sha256: out.checksum });
    expect(out.peakRss).toBeLessThan(160 * MiB);
  }, 600_000);

  it("a 512 MiB encrypted (age) backup and restore to fs stay under 160 MiB peak RSS too", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(import.meta.dirname, "../fixtures/rss-backup.mjs"), String(size), join(dir, "rss-age"), "age"],
      { maxBuffer: 1 << 20 },
    );
    const out = JSON.parse(stdout);
    console.log(`512 MiB encrypted backup+restore: peak RSS ${(out.peakRss / MiB).toFixed(1)} MiB (after backup ${(out.afterBackup / MiB).toFixed(1)} MiB)`);
    expect(out.key).toMatch(/\.db\.gz\.age$/);
    expect(out.checksum).toBeUndefined();
    expect(out.restored).toEqual({ size, sha256: expected });
    expect(out.peakRss).toBeLessThan(160 * MiB);
  }, 600_000);
});
