/**
 * zstd written natively on the runtimes whose node:zlib has it (Node 24, Bun, Deno, from the
 * runtime table): backup → restore is byte-identical, the portable codec (fzstd) verifies what
 * node:zlib wrote, and the stored object is standard zstd that the real `zstd -d` turns back
 * into the source (docs/FORMAT.md §5), one frame or several (`compressionWorkers`); a zstd bomb
 * stops at the size its metadata states. zstd with age on top (`.db.zst.age`) round-trips too, and
 * `age -d` then `zstd -d` of the stored object gives the source. A runtime whose binary is absent is skipped with a
 * line saying why, and fails under CI=true.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect } from "vitest";
import { CHILDREN, ROOT, runtimes } from "./runtimes.js";
import { itOn } from "./skip.js";

const SCRIPT = join(CHILDREN, "zstd-roundtrip.ts");
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("zstd backups on runtimes with native zstd", () => {
  for (const runtime of runtimes("node24", "bun", "deno")) {
    for (const workers of [1, 2]) {
      itOn(runtime)(`${runtime.name}, compressionWorkers ${workers}: backup → restore, fzstd verifies, zstd -d gives the source back; and .db.zst.age`, async () => {
        const dir = await mkdtemp(join(tmpdir(), "backupper-zstd-rt-"));
        dirs.push(dir);
        const [binary, ...args] = [...runtime.argv({ ts: true, allow: "all" }), SCRIPT, dir, String(workers)];
        const { stdout } = await promisify(execFile)(binary!, args, { cwd: ROOT, maxBuffer: 1 << 20 });
        const result = JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, unknown> & { stored: string; key: string };
        expect(String(result.runtime).startsWith(runtime.reports), `ran on ${String(result.runtime)}`).toBe(true);
        expect(result).toMatchObject({ codec: "native", restoredEqual: true, portableVerify: true });
        expect(result.meta).toMatchObject({ compression: "zstd", compressed: true, format: "backupper/2" });
        expect(result.key).toMatch(/^backups\/queue-.*\.db\.zst$/);
        expect(result.bombError).toMatch(/^CORRUPT_DATA: .*exceeds the 1048576 bytes the metadata states/);
        expect(result.bombLeftFile).toBe(false);

        const stored = await readFile(result.stored);
        expect([...stored.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
        // `zstd -d` checks each frame's content checksum too.
        const byHand = execFileSync("zstd", ["-d", "-c", result.stored], { maxBuffer: 1 << 30 });
        expect(byHand.equals(await readFile(join(dir, "queue.db")))).toBe(true);
        expect(stored.length).toBeLessThan(byHand.length);
        // One frame per 1 MiB block, with one worker too (src/pipeline/compression/zstd.ts), each checksummed.
        const [, listed] = execFileSync("zstd", ["-l", result.stored], { encoding: "utf8" }).trim().split("\n");
        expect(listed!.trim().split(/\s+/)[0]).toBe(String(Math.ceil(byHand.length / (1 << 20))));
        expect(listed).toContain("XXH64");

        // zstd, then age: restored and verified (by node:zlib and by fzstd), and undone by hand.
        expect(result.sealedKey).toMatch(/^backups\/sealed-.*\.db\.zst\.age$/);
        expect(result).toMatchObject({ sealedRestoredEqual: true, sealedVerified: true, sealedPortableVerify: true });
        expect(result.sealedMeta).toMatchObject({ compression: "zstd", compressed: true, encryption: "age", format: "backupper/2" });
        expect((result.sealedMeta as Record<string, unknown>).checksum).toBeUndefined();
        const sealedStored = await readFile(result.sealedStored as string);
        expect(sealedStored.subarray(0, 22).toString()).toBe("age-encryption.org/v1\n");
        const decrypted = execFileSync("age", ["-d", "-i", join(dir, "key.txt"), result.sealedStored as string], { maxBuffer: 1 << 30 });
        expect([...decrypted.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
        const unsealed = execFileSync("zstd", ["-d", "-c"], { input: decrypted, maxBuffer: 1 << 30 });
        expect(unsealed.equals(await readFile(join(dir, "queue.db")))).toBe(true);
      }, 120_000);
    }
  }

  const node24 = runtimes("node24")[0]!;
  itOn(node24)(`${node24.name}: the built CLI's --compression zstd stores a .db.zst that zstd -d restores`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "backupper-zstd-cli-"));
    dirs.push(dir);
    const source = join(dir, "jobs.bin");
    await writeFile(source, Buffer.alloc(2_000_000, "queue row "));
    const [binary, ...args] = [...node24.argv(), join(ROOT, "dist/cli.js"), "now", "--source", source, "--dir", join(dir, "store"), "--compression", "zstd", "--compression-level", "19", "--json"];
    const { stdout } = await promisify(execFile)(binary!, args, { cwd: ROOT, env: { PATH: process.env.PATH } });
    const { backup } = JSON.parse(stdout) as { backup: { key: string } };
    expect(backup.key).toMatch(/^backups\/jobs-.*\.db\.zst$/);
    const byHand = execFileSync("zstd", ["-d", "-c", join(dir, "store", backup.key)], { maxBuffer: 1 << 30 });
    expect(byHand.equals(await readFile(source))).toBe(true);
  }, 120_000);
});
