/**
 * What a restore rejects with when something other than the backup fails: a failure nobody
 * classified (a bug) is INTERNAL (exit 1), never "source unreadable"; a restore target that
 * cannot be written is TARGET (exit 9), with the target named, and is left as it was.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { exitCodeOf } from "../../src/cli/exit-codes.js";
import { getCodec } from "../../src/codec/index.js";
import { BackupError, TargetError, bytesSource, bytesTarget, createBackupper, type RestoreTarget } from "../../src/index.js";
import { fileTarget } from "../../src/fs.js";
import { randomBytes } from "../helpers/data.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "backupper-error-mapping-"));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

async function rejectionOf(p: Promise<unknown>): Promise<BackupError> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(BackupError.is(error)).toBe(true);
  return error as BackupError;
}

async function backedUp() {
  const b = createBackupper({ adapter: memoryAdapter(), source: bytesSource(randomBytes(100_000), { name: "q" }), codec: "portable" });
  return { b, info: await b.backup() };
}

describe("restore failures that are not the backup's", () => {
  it("an unexpected exception inside the library surfaces as INTERNAL (exit 1), the target untouched", async () => {
    const { b, info } = await backedUp();
    const codec = await getCodec("portable");
    vi.spyOn(codec, "sha256").mockImplementation(() => {
      throw new TypeError("hasher exploded");
    });
    const to = bytesTarget();
    const error = await rejectionOf(b.restore(info.key, { to }));
    expect(error).toMatchObject({ code: "INTERNAL", name: "InternalError", message: "hasher exploded" });
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(exitCodeOf(error)).toBe(1);
    expect(to.bytes).toBeUndefined();
  });

  it("a target whose write fails is TARGET (exit 9), naming the target", async () => {
    const { b, info } = await backedUp();
    let aborted = false;
    const to: RestoreTarget = {
      description: "tape drive 3",
      async begin() {
        return {
          write() {
            throw new Error("no space left on device");
          },
          async commit() {
            throw new Error("must not commit");
          },
          async abort() {
            aborted = true;
          },
        };
      },
    };
    const error = await rejectionOf(b.restore(info.key, { to }));
    expect(error).toBeInstanceOf(TargetError);
    expect(error).toMatchObject({ code: "TARGET", target: "tape drive 3" });
    expect(error.message).toContain("no space left on device");
    expect(exitCodeOf(error)).toBe(9);
    expect(aborted).toBe(true);
  });

  it("a file target that cannot be replaced is TARGET, and the path keeps what it held", async () => {
    const { b, info } = await backedUp();
    const path = join(dir, "db");
    await writeFile(path, "old");
    // Once the restored bytes are checked, a non-empty directory takes the target's place: the final rename fails.
    const validate = async () => {
      await rm(path);
      await mkdir(path);
      await writeFile(join(path, "inside"), "x");
    };
    const error = await rejectionOf(b.restore(info.key, { to: fileTarget(path, { validate }), force: true }));
    expect(error).toMatchObject({ code: "TARGET", target: path });
    expect(await readFile(join(path, "inside"), "utf8")).toBe("x");
  });
});
