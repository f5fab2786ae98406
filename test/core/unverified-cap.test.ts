/**
 * Review finding: with `allowUnverified` nothing capped the output of a backup without metadata
 * (a 2 MB legacy object could restore as 2 GiB). By default it is now capped at 100 × its stored
 * size + 64 MiB; an explicit `maxRestoreBytes` replaces the cap, larger or smaller.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { BackupError, ConfigError, bytesSource, createBackupper, type BackupperOptions } from "../../src/index.js";
import { fileTarget } from "../../src/fs.js";
import { RestoreCapError } from "../../src/errors.js";
import type { RestoreTarget, StorageAdapter } from "../../src/types.js";
import { randomBytes, sha256 } from "../helpers/data.js";
import { ledger } from "../reliability/ledger.js";

const log = ledger(import.meta.filename);
const MiB = 1024 * 1024;
/** bunqueue's oldest key shape: `.db`, no uuid, no metadata object. */
const KEY = "backups/bunqueue-2024-06-01T00-00-00-000Z.db";

/** 160 MiB of zeros as 160 gzip members of 1 MiB (~1 KiB each): a bomb at deflate's ~1030:1, cheap to build. */
function bomb(): Uint8Array {
  const member = gzipSync(new Uint8Array(MiB));
  return Buffer.concat(Array.from({ length: 160 }, () => member));
}

/**
 * A genuine database above the default cap: 96 MiB of 4 KiB pages, one in 1024 holding data and
 * the rest zero-filled, as SQLite leaves free pages with secure_delete on.
 */
function sparseDatabase(): Uint8Array {
  const bytes = new Uint8Array(96 * MiB);
  const page = randomBytes(4096);
  page.set(new TextEncoder().encode("SQLite format 3\0"));
  for (let at = 0; at < bytes.length; at += 1024 * 4096) bytes.set(page, at);
  return bytes;
}

/** A target that hashes what it is given instead of holding it, and counts what was staged. */
function hashingTarget() {
  const state = { staged: 0, committed: undefined as string | undefined };
  const target: RestoreTarget = {
    description: "hash",
    async begin() {
      const hash = createHash("sha256");
      return {
        write(chunk) {
          state.staged += chunk.byteLength;
          hash.update(chunk);
        },
        async commit() {
          state.committed = hash.digest("hex");
        },
        async abort() {},
      };
    },
  };
  return { target, state };
}

function backupper(adapter: StorageAdapter, extra: Partial<BackupperOptions> = {}) {
  return createBackupper({ adapter, source: bytesSource(new Uint8Array(), { name: "bunqueue" }), ...extra });
}

async function planted(bytes: Uint8Array): Promise<StorageAdapter> {
  const adapter = memoryAdapter();
  await adapter.put(KEY, bytes);
  return adapter;
}

const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "backupper-cap-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("restoring a backup without metadata is capped by default", () => {
  it("a gzip bomb under default options is CORRUPT_DATA naming the cap and maxRestoreBytes; the target is untouched", async () => {
    const stored = bomb();
    const adapter = await planted(stored);
    const path = join(dir, "precious.db");
    await writeFile(path, "precious");
    const error = await errorOf(backupper(adapter).restore(KEY, { to: fileTarget(path), force: true, allowUnverified: true }));

    expect(BackupError.is(error, "CORRUPT_DATA"), String(error)).toBe(true);
    const cap = 100 * stored.byteLength + 64 * MiB;
    expect((error as RestoreCapError).cap).toBe(cap);
    expect((error as Error).message).toContain(`exceeds the ${cap}-byte cap`);
    expect((error as Error).message).toContain("maxRestoreBytes");
    expect(await readFile(path, "utf8")).toBe("precious");
    expect(await readdir(dir)).toEqual(["precious.db"]);

    // Without the opt-in it is not even read; verify refuses it as before.
    expect(BackupError.is(await errorOf(backupper(adapter).restore(KEY, { to: fileTarget(path), force: true })), "UNVERIFIED")).toBe(true);
    log.record({
      kind: "review",
      scenario: "gzip bomb (160 MiB from 160 KiB) without metadata, allowUnverified, default options",
      expected: "CORRUPT_DATA at 100 × stored + 64 MiB, target untouched",
      observed: `CORRUPT_DATA at ${cap} bytes naming maxRestoreBytes; target byte-identical, no temp file`,
      faults: 1,
      bytesLost: 0,
    });
  });

  it("the default cap also holds when the adapter gives no stored size, growing with the bytes read", async () => {
    const stored = bomb();
    const inner = await planted(stored);
    const sizeless: StorageAdapter = {
      ...inner,
      async get(key, opts) {
        const got = await inner.get(key, opts);
        return got && { body: got.body };
      },
    };
    const { target, state } = hashingTarget();
    const error = await errorOf(backupper(sizeless).restore(KEY, { to: target, allowUnverified: true }));
    expect(BackupError.is(error, "CORRUPT_DATA"), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/stored bytes/);
    expect(state.committed).toBeUndefined();
    expect(state.staged).toBeLessThanOrEqual(100 * stored.byteLength + 64 * MiB);
  });

  it("an explicit maxRestoreBytes replaces the default either way; Infinity removes it", async () => {
    const db = sparseDatabase();
    const stored = gzipSync(db);
    expect(db.byteLength).toBeGreaterThan(100 * stored.byteLength + 64 * MiB);
    const adapter = await planted(stored);
    const sha = sha256(db);

    const refused = hashingTarget();
    const error = await errorOf(backupper(adapter).restore(KEY, { to: refused.target, allowUnverified: true }));
    expect(BackupError.is(error, "CORRUPT_DATA"), String(error)).toBe(true);
    expect(refused.state.committed).toBeUndefined();

    for (const maxRestoreBytes of [db.byteLength, Infinity]) {
      const { target, state } = hashingTarget();
      await expect(backupper(adapter, { maxRestoreBytes }).restore(KEY, { to: target, allowUnverified: true })).resolves.toMatchObject({
        verified: false,
        size: db.byteLength,
        checksum: sha,
      });
      expect(state.committed).toBe(sha);
    }

    // Smaller: a small legacy backup the default lets through is refused below its size.
    const small = await planted(gzipSync(db.subarray(0, MiB)));
    await expect(backupper(small).restore(KEY, { to: hashingTarget().target, allowUnverified: true })).resolves.toMatchObject({ size: MiB });
    const capped = await errorOf(backupper(small, { maxRestoreBytes: MiB - 1 }).restore(KEY, { to: hashingTarget().target, allowUnverified: true }));
    expect(BackupError.is(capped, "CORRUPT_DATA"), String(capped)).toBe(true);
    expect((capped as RestoreCapError).cap).toBe(MiB - 1);
    log.record({
      kind: "review",
      scenario: "genuine sparse database (96 MiB, ~500:1) without metadata",
      expected: "refused by the default cap; restored with maxRestoreBytes >= its size or Infinity",
      observed: "CORRUPT_DATA by default; restored with matching SHA-256 under an explicit larger cap and Infinity; a smaller cap refuses a small one",
      faults: 0,
      bytesLost: 0,
    });
  });

  it("maxRestoreBytes is validated at creation, naming the option", () => {
    for (const value of [-1, 1.5, Number.NaN, -Infinity, "7", null]) {
      expect(() => backupper(memoryAdapter(), { maxRestoreBytes: value as number }), String(value)).toThrow(ConfigError);
      try {
        backupper(memoryAdapter(), { maxRestoreBytes: value as number });
      } catch (error) {
        expect((error as ConfigError).option).toBe("maxRestoreBytes");
      }
    }
    for (const value of [0, 1, 2 ** 40, Infinity, undefined]) expect(() => backupper(memoryAdapter(), { maxRestoreBytes: value })).not.toThrow();
  });
});
