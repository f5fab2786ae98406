/**
 * The fs adapter and symbolic links, under attack and in ordinary deployments (review defects 3
 * and 9):
 * - a process that can write inside the root keeps exchanging `<root>/backups` with a link to
 *   an outside directory (renameat2 RENAME_EXCHANGE in a loop) while the adapter reads, writes,
 *   deletes and lists: nothing may be read from, written to or removed from outside the root;
 * - `<root>/backups` is a link to a folder inside the root: what put stores, list must show
 *   and retention must be able to prune.
 */

import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fsAdapter } from "../../src/adapters/fs.js";
import { BackupError, bytesSource, createBackupper } from "../../src/index.js";
import type { StorageAdapter } from "../../src/types.js";
import { ledger } from "../reliability/ledger.js";
import { describeUnless } from "../helpers/skips.js";
import { listAll, readAll } from "./conformance.js";

const log = ledger(import.meta.filename);
const SWAPPER = join(import.meta.dirname, "..", "fixtures", "swap-paths.py");
const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Why the race cannot run here, or undefined. In CI that is a failure, never a skip. */
function swapperMissing(): string | undefined {
  if (process.platform !== "linux") return `renameat2 is Linux-only (platform ${process.platform})`;
  const probe = spawnSync("python3", ["-c", "import ctypes"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) return `python3 with ctypes is not available: ${probe.error?.message ?? probe.stderr}`;
  return undefined;
}
const missing = swapperMissing();
if (missing !== undefined && process.env.CI === "true") throw new Error(`the fs symlink race test must run in CI: ${missing}`);
const describeRace = describeUnless(missing, "fs symlink race");

/** Every file and directory under `path`, relative to it. */
async function tree(path: string): Promise<string[]> {
  return (await readdir(path, { recursive: true })).map(String).sort();
}

/** Operations of each race test, and how many run at once: a fixed, bounded amount of work. */
const TRIES = { get: 300, put: 100, delete: 200, list: 100, cleanup: 60 };
const IN_FLIGHT = 4;

describeRace("fs adapter: <root>/backups and a link out of the root keep trading places", () => {
  let dir: string;
  let root: string;
  let outside: string;
  let swapper: ChildProcessByStdio<null, Readable, Readable> | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "backupper-fs-race-"));
    root = join(dir, "root");
    outside = join(dir, "outside");
    await mkdir(join(root, "backups"), { recursive: true });
    await mkdir(outside);
    await symlink(outside, join(root, "decoy"));
  });
  afterEach(async () => {
    if (swapper !== undefined && swapper.exitCode === null) swapper.kill("SIGKILL");
    swapper = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs `op(0)` … `op(tries - 1)`, `IN_FLIGHT` at a time, while `<root>/backups` and `<root>/decoy`
   * (the link out of the root) keep trading places. Returns what the calls returned (undefined
   * for a refusal), the count of refusals by error code, and how many exchanges happened.
   */
  async function race<T>(tries: number, op: (i: number) => Promise<T>) {
    const child = spawn("python3", [SWAPPER, join(root, "backups"), join(root, "decoy")], { stdio: ["ignore", "pipe", "pipe"] });
    swapper = child;
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (data: Buffer) => {
        stdout += data.toString();
        if (stdout.startsWith("ready\n")) resolve();
      });
      void exited.then((code) => reject(new Error(`swapper exited with ${code}: ${stderr}`)));
    });

    const results: Array<T | undefined> = [];
    const refused: Record<string, number> = {};
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < tries; i = next++) {
        try {
          results[i] = await op(i);
        } catch (error) {
          // Only a typed refusal may come out; anything else is a defect of its own.
          expect(BackupError.is(error), `untyped failure: ${String(error)}`).toBe(true);
          const code = (error as BackupError).code;
          expect(["INVALID_KEY", "ADAPTER"], String(error)).toContain(code);
          refused[code] = (refused[code] ?? 0) + 1;
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited, stderr).toBe(0);
    const swaps = Number(stdout.trim().split("\n").pop());
    const refusals = Object.values(refused).reduce((a, b) => a + b, 0);
    return { results, refused, refusals, swaps };
  }

  it("get never returns the bytes of the outside file with the same name", async () => {
    await writeFile(join(root, "backups", "k"), "inside object");
    await writeFile(join(outside, "k"), "OUTSIDE SECRET");
    const adapter = fsAdapter({ root });

    const { results, refused, refusals, swaps } = await race(TRIES.get, async () => {
      const got = await adapter.get("backups/k");
      return got === null ? "null" : decode(await readAll(got.body));
    });

    const served = results.filter((text) => text === "inside object").length;
    const leaked = results.filter((text) => text === "OUTSIDE SECRET").length;
    log.record({
      kind: "review",
      scenario: `fs get("backups/k") ×${TRIES.get} while <root>/backups is exchanged with a link to an outside dir holding k (${swaps} exchanges)`,
      expected: "every get returns the inside object or a typed refusal; never the outside bytes",
      observed: `${served} served the inside object, ${leaked} returned the outside file, refused: ${JSON.stringify(refused)}`,
      faults: swaps,
      bytesLost: 0,
    });
    expect(leaked, "gets that returned the outside file").toBe(0);
    expect(served + refusals, "gets that returned something else").toBe(TRIES.get);
    // Both states of the race were hit, so the test exercised it.
    expect(served).toBeGreaterThan(0);
    expect(refusals).toBeGreaterThan(0);
  });

  it("put never creates, replaces or leaves anything outside the root, and what it reports stored is stored inside", async () => {
    await writeFile(join(outside, "k"), "OUTSIDE SECRET");
    const adapter = fsAdapter({ root });
    // Every third key needs a directory made, so mkdir is raced too; every third replaces k.
    const keyOf = (i: number) => (i % 3 === 0 ? `backups/dir-${i}/p` : i % 3 === 1 ? `backups/p-${i}` : `backups/k`);

    const { results, refused, refusals, swaps } = await race(TRIES.put, async (i) => {
      await adapter.put(keyOf(i), encode(`put ${i}`));
      return true;
    });

    const outsideTree = await tree(outside);
    const outsideK = await readFile(join(outside, "k"), "utf8");
    const stored = results.flatMap((ok, i) => (ok ? [i] : []));
    log.record({
      kind: "review",
      scenario: `fs put ×${TRIES.put} under backups/ (new keys, new directories, replacing k) while <root>/backups is exchanged with a link out of the root (${swaps} exchanges)`,
      expected: "nothing created or replaced outside the root; every put stores inside or fails typed",
      observed: `${stored.length} stored, refused: ${JSON.stringify(refused)}; outside holds ${JSON.stringify(outsideTree)}, k ${outsideK === "OUTSIDE SECRET" ? "intact" : "REPLACED"}`,
      faults: swaps,
      bytesLost: 0,
    });
    expect(outsideTree).toEqual(["k"]);
    expect(outsideK).toBe("OUTSIDE SECRET");
    // Each key stored is inside (k: by one of the puts that reported success).
    for (const i of stored) {
      const text = decode(await readAll((await adapter.get(keyOf(i)))!.body));
      if (keyOf(i) === "backups/k") expect(stored.map((j) => `put ${j}`)).toContain(text);
      else expect(text).toBe(`put ${i}`);
    }
    expect(stored.length).toBeGreaterThan(0);
    expect(refusals).toBeGreaterThan(0);
  });

  it("delete never removes a file or an empty directory outside the root", async () => {
    // Flat keys race the unlink; nested ones the removal of directories left empty.
    const keyOf = (i: number) => (i % 2 === 0 ? `d-${i}` : `e-${i}/x`);
    for (let i = 0; i < TRIES.delete; i++) {
      await mkdir(join(root, "backups", `e-${i}`), { recursive: true });
      await writeFile(join(root, "backups", keyOf(i)), "inside");
      if (i % 2 === 0) await writeFile(join(outside, keyOf(i)), "planted");
      else await mkdir(join(outside, `e-${i}`));
    }
    const before = await tree(outside);
    const adapter = fsAdapter({ root });

    const { results, refused, refusals, swaps } = await race(TRIES.delete, async (i) => {
      await adapter.delete([`backups/${keyOf(i)}`]);
      return true;
    });

    const after = await tree(outside);
    const lost = before.filter((name) => !after.includes(name));
    const deleted = results.filter(Boolean).length;
    log.record({
      kind: "review",
      scenario: `fs delete ×${TRIES.delete} (files, and directories left empty) while <root>/backups is exchanged with a link to an outside dir holding the same names (${swaps} exchanges)`,
      expected: "nothing outside the root removed; every delete removes inside or fails typed",
      observed: `${deleted} deleted, refused: ${JSON.stringify(refused)}; outside entries removed: ${lost.length}`,
      faults: swaps,
      bytesLost: 0,
    });
    expect(lost).toEqual([]);
    expect(deleted).toBeGreaterThan(0);
    expect(refusals).toBeGreaterThan(0);
  });

  it("cleanupIncomplete never removes a temp file outside the root", async () => {
    const temps = Array.from({ length: 60 }, (_, i) => `.q-${i}.db.gz.tmp-${i.toString(16).padStart(12, "0")}`);
    const past = new Date(Date.now() - 7_200_000);
    for (const name of temps) {
      for (const where of [join(root, "backups"), outside]) {
        await writeFile(join(where, name), "partial");
        await utimes(join(where, name), past, past);
      }
    }
    // A complete backup keeps backups/ from being emptied (and removed) while the swapper needs it.
    await writeFile(join(root, "backups", "q-complete.db.gz"), "complete");
    const before = await tree(outside);
    const adapter = fsAdapter({ root });

    const { results, refused, swaps } = await race(TRIES.cleanup, async () => (await adapter.cleanupIncomplete!("backups/", new Date())).length);

    // Under frequent exchanges a sweep may be refused part way (what it removed until then is not
    // in its result); once they stop, the next sweep must remove every inside temp that is left.
    const raced = results.reduce<number>((n, r) => n + (r ?? 0), 0);
    const removed = raced + (await adapter.cleanupIncomplete!("backups/", new Date())).length;
    const after = await tree(outside);
    const lost = before.filter((name) => !after.includes(name));
    log.record({
      kind: "review",
      scenario: `fs cleanupIncomplete ×${TRIES.cleanup} while <root>/backups is exchanged with a link to an outside dir holding temp files of the same names (${swaps} exchanges)`,
      expected: "no temp file outside the root removed; each call removes inside or fails typed",
      observed: `${raced} inside temps reported removed by sweeps that completed during the race, ${removed - raced} by the sweep after it, refused: ${JSON.stringify(refused)}; outside entries removed: ${lost.length}`,
      faults: swaps,
      bytesLost: 0,
    });
    expect(lost).toEqual([]);
    expect(await readdir(join(root, "backups"))).toEqual(["q-complete.db.gz"]);
  });

  it("list never shows what lies outside the root", async () => {
    await writeFile(join(root, "backups", "k"), "inside object");
    await writeFile(join(outside, "only-outside"), "OUTSIDE SECRET");
    const adapter = fsAdapter({ root });

    const { results, refused, swaps } = await race(TRIES.list, async () => (await listAll(adapter, "")).map((entry) => entry.key));

    const listings = results.filter((keys) => keys !== undefined);
    const leaked = listings.filter((keys) => keys.some((key) => key.endsWith("only-outside"))).length;
    const showedK = listings.filter((keys) => keys.includes("backups/k")).length;
    log.record({
      kind: "review",
      scenario: `fs list("") ×${TRIES.list} while <root>/backups is exchanged with a link to an outside dir (${swaps} exchanges)`,
      expected: "no listing names a file outside the root",
      observed: `${listings.length} listings (${showedK} showing backups/k), ${leaked} named the outside file, refused: ${JSON.stringify(refused)}`,
      faults: swaps,
      bytesLost: 0,
    });
    expect(leaked, "listings that named the outside file").toBe(0);
    expect(showedK).toBeGreaterThan(0);
  });
});

describe("fs adapter: <root>/backups is a link to another folder of the root", () => {
  let dir: string;
  let root: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "backupper-fs-linked-prefix-"));
    root = join(dir, "root");
    await mkdir(join(root, "disk2", "store"), { recursive: true });
    // Relative, as `ln -s disk2/store backups` makes it.
    await symlink(join("disk2", "store"), join(root, "backups"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("lists what put stored through the link, and deletes it", async () => {
    const adapter: StorageAdapter = fsAdapter({ root });
    const keys = ["a.db.gz", "a.db.gz.meta.json", "b.db.gz", "b.db.gz.meta.json", "c.db.gz", "c.db.gz.meta.json"].map((name) => `backups/${name}`);
    for (const key of keys) await adapter.put(key, encode(key));
    const onDisk = await tree(join(root, "disk2", "store"));
    const listed = await listAll(adapter, "backups/");
    await adapter.delete(keys.slice(0, 2));
    const afterDelete = await tree(join(root, "disk2", "store"));

    log.record({
      kind: "review",
      scenario: "fs put of 6 objects under backups/, where <root>/backups -> disk2/store (a folder inside the root)",
      expected: "list(\"backups/\") shows all 6 with their sizes; delete removes them from disk2/store",
      observed: `${onDisk.length} on disk, ${listed.length} listed, ${onDisk.length - afterDelete.length} removed by deleting 2`,
      faults: 0,
      bytesLost: 0,
    });
    expect(onDisk).toHaveLength(6);
    expect(listed.map((entry) => entry.key)).toEqual(keys);
    for (const entry of listed) expect(entry.size).toBe(encode(entry.key).byteLength);
    expect(afterDelete).toEqual(onDisk.slice(2));
    // The folder the link names is listed under its own keys too: both are keys get accepts.
    expect((await listAll(adapter, "disk2/")).map((entry) => entry.key)).toEqual(keys.slice(2).map((key) => key.replace("backups/", "disk2/store/")));
  });

  it("a backupper on it lists its backups and retention prunes them", async () => {
    const b = createBackupper({ source: bytesSource(encode("database bytes"), { name: "db" }), adapter: fsAdapter({ root }), retention: 2 });
    for (let i = 0; i < 3; i++) {
      await b.backup();
      // Distinct timestamps in the keys, so retention has an order.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const listed = await b.list();
    const onDisk = await tree(join(root, "disk2", "store"));
    const status = b.status();

    log.record({
      kind: "review",
      scenario: "createBackupper on the fs adapter, retention 2, three backups, where <root>/backups -> disk2/store (inside the root)",
      expected: "list() and status() show 2 backups; the oldest is pruned from disk2/store",
      observed: `list() ${listed.length}, status().backups ${status.backups}, ${onDisk.length} objects on disk`,
      faults: 0,
      bytesLost: 0,
    });
    expect(listed).toHaveLength(2);
    expect(status.backups).toBe(2);
    expect(onDisk).toHaveLength(4);
    expect(onDisk.sort()).toEqual(listed.flatMap((info) => [info.key, info.metaKey].map((key) => key.replace("backups/", ""))).sort());
    const restored = await b.verify(listed[0]!.key);
    expect(restored.size).toBe(encode("database bytes").byteLength);
  });

  it("lists a file link inside the root as the file it names, and does not loop on a link back up the tree", async () => {
    const adapter = fsAdapter({ root });
    await adapter.put("backups/x", encode("xx"));
    await symlink(join(root, "disk2", "store", "x"), join(root, "disk2", "store", "y"));
    await symlink(root, join(root, "disk2", "store", "up"));
    await symlink(join(root, "disk2"), join(root, "disk2", "self"));
    const keys = (await listAll(adapter, "")).map((entry) => `${entry.key}=${entry.size}`);
    expect(keys).toEqual(["backups/x=2", "backups/y=2", "disk2/store/x=2", "disk2/store/y=2"]);
    expect(decode(await readAll((await adapter.get("backups/y"))!.body))).toBe("xx");
  });
});

const describeLinux = describeUnless(process.platform === "linux" ? undefined : "/proc/self/fd is Linux-only", "fs adapter descriptors");

describeLinux("fs adapter: descriptors", () => {
  it("closes every directory and file it opens, on success, refusal, absence and an abandoned read", async () => {
    const dir = await mkdtemp(join(tmpdir(), "backupper-fs-fds-"));
    try {
      const root = join(dir, "root");
      await mkdir(join(root, "disk2", "store"), { recursive: true });
      await mkdir(join(dir, "outside"));
      await writeFile(join(dir, "outside", "s"), "secret");
      await symlink(join("disk2", "store"), join(root, "backups"));
      await symlink(join(dir, "outside"), join(root, "out"));
      const adapter = fsAdapter({ root });
      const round = async (i: number) => {
        await adapter.put(`backups/d/${i}`, encode("x".repeat(100)));
        await symlink(String(i), join(root, "disk2", "store", "d", `link-${i}`));
        expect(decode(await readAll((await adapter.get(`backups/d/link-${i}`))!.body))).toBe("x".repeat(100));
        expect(await adapter.get(`backups/d/missing-${i}`)).toBeNull();
        expect(await adapter.get(`backups/d/${i}/below-a-file`)).toBeNull();
        await expect(adapter.get("out/s")).rejects.toMatchObject({ code: "INVALID_KEY" });
        await expect(adapter.put(`out/new-${i}`, encode("x"))).rejects.toMatchObject({ code: "INVALID_KEY" });
        await expect(adapter.put(`backups/d/${i}/below-a-file`, encode("x"))).rejects.toMatchObject({ code: "ADAPTER" });
        await (await adapter.get(`backups/d/${i}`))!.body.cancel();
        expect((await listAll(adapter, "")).length).toBeGreaterThan(0);
        await adapter.delete([`backups/d/link-${i}`, `backups/d/${i}`]);
      };
      await round(0);
      const before = (await readdir("/proc/self/fd")).length;
      for (let i = 1; i <= 30; i++) await round(i);
      expect((await readdir("/proc/self/fd")).length).toBe(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
