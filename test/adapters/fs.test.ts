import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fsAdapter } from "../../src/adapters/fs.js";
import { AdapterError, ConfigError, InvalidKeyError } from "../../src/errors.js";
import { describeAdapterConformance, listAll, readAll } from "./conformance.js";

describeAdapterConformance("fs", async () => {
  const root = await mkdtemp(join(tmpdir(), "backupper-fs-conformance-"));
  return { adapter: fsAdapter({ root }), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe("fsAdapter", () => {
  let dir: string;
  let root: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "backupper-fs-"));
    root = join(dir, "root");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Every file and directory under `path`, relative to it. */
  async function tree(path: string): Promise<string[]> {
    const entries = await readdir(path, { recursive: true });
    return entries.map(String).sort();
  }

  it("validates its options when created, naming the option", () => {
    for (const root of ["", "  ", 42, undefined, "a\0b"]) {
      expect(() => fsAdapter({ root } as never)).toThrow(ConfigError);
      expect(() => fsAdapter({ root } as never)).toThrow(/^root: /);
    }
    expect(() => fsAdapter({ root: "/tmp/x", fsync: "yes" } as never)).toThrow(/^fsync: /);
    expect(() => fsAdapter({ root: "/tmp/x", create: 1 } as never)).toThrow(/^create: /);
  });

  it("refuses keys that are empty, absolute, or escape the root", async () => {
    const adapter = fsAdapter({ root });
    await adapter.put("inside", new Uint8Array([1]));
    const bad = ["", "../x", "a/../../x", "a/../b", "/abs", "a\\b", "..\\x", "a//b", "a/", "./a", "a/./b", "..", "nul\0byte", ".x.tmp-0123456789ab"];
    for (const key of bad) {
      await expect(adapter.put(key, new Uint8Array([1])), key).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(adapter.get(key), key).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(adapter.delete(["inside", key]), key).rejects.toBeInstanceOf(InvalidKeyError);
    }
    // A batch with one bad key deletes nothing.
    expect(await readFile(join(root, "inside"))).toEqual(Buffer.from([1]));
    expect(await tree(dir)).toEqual(["root", "root/inside"]);
  });

  it("refuses to read or write through a symbolic link that leads outside the root", async () => {
    const outside = join(dir, "outside");
    await mkdir(outside);
    await writeFile(join(outside, "secret"), "outside data");
    await mkdir(root);
    await symlink(outside, join(root, "link"));
    await symlink(join(outside, "secret"), join(root, "file-link"));
    const adapter = fsAdapter({ root });

    for (const key of ["link/x", "link/new/deeper/x", "link/secret"]) {
      await expect(adapter.put(key, new Uint8Array([1])), key).rejects.toBeInstanceOf(InvalidKeyError);
    }
    await expect(adapter.get("link/secret")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(adapter.get("file-link")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(adapter.delete(["link/secret"])).rejects.toBeInstanceOf(InvalidKeyError);
    expect(await tree(outside)).toEqual(["secret"]);
    expect(await readFile(join(outside, "secret"), "utf8")).toBe("outside data");
    // Listing does not follow links out of the root either.
    expect(await listAll(adapter, "")).toEqual([]);
  });

  it("follows a symbolic link that stays inside the root, and a root that is itself a link", async () => {
    await mkdir(join(dir, "real-root", "real-sub"), { recursive: true });
    await symlink(join(dir, "real-root"), root);
    await symlink(join(dir, "real-root", "real-sub"), join(dir, "real-root", "alias"));
    const adapter = fsAdapter({ root });
    await adapter.put("alias/k", new Uint8Array([7]));
    expect(await readFile(join(dir, "real-root", "real-sub", "k"))).toEqual(Buffer.from([7]));
    expect([...(await readAll((await adapter.get("alias/k"))!.body))]).toEqual([7]);
  });

  it("leaves no temp file and no partial object when a put fails", async () => {
    const adapter = fsAdapter({ root });
    await adapter.put("a/b/key", new TextEncoder().encode("previous"));
    let sent = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 3) controller.enqueue(new Uint8Array(300_000));
        else controller.error(new Error("source broke"));
      },
    });
    await expect(adapter.put("a/b/key", failing)).rejects.toThrow(AdapterError);
    await expect(adapter.put("a/b/other", new ReadableStream({ pull: (c) => c.error(new Error("no")) }))).rejects.toThrow();
    expect(await tree(root)).toEqual(["a", "a/b", "a/b/key"]);
    expect(await readFile(join(root, "a/b/key"), "utf8")).toBe("previous");
  });

  it("makes the object appear only once its stream has ended", async () => {
    const adapter = fsAdapter({ root });
    let finish!: () => void;
    let written!: () => void;
    const firstChunkTaken = new Promise<void>((resolve) => (written = resolve));
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          controller.enqueue(new Uint8Array(1000).fill(1));
          written();
          await new Promise<void>((resolve) => (finish = resolve));
          controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const put = adapter.put("dir/key", body);
    await firstChunkTaken;
    await expect(lstat(join(root, "dir/key"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await adapter.get("dir/key")).toBeNull();
    expect(await listAll(adapter, "")).toEqual([]);
    expect((await readdir(join(root, "dir"))).filter((name) => name.includes(".tmp-"))).toHaveLength(1);
    finish();
    await put;
    expect((await lstat(join(root, "dir/key"))).size).toBe(1000);
    expect(await readdir(join(root, "dir"))).toEqual(["key"]);
  });

  it("keeps the final path absent when the writing process is killed mid-put; a later put succeeds", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "fs-put-child.ts"), root, "backups/db.gz"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (data: Buffer) => {
        if (data.toString().includes("streaming")) resolve();
      });
      child.on("exit", (code) => reject(new Error(`child exited early with ${code}`)));
    });
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");

    const names = await readdir(join(root, "backups"));
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^\.db\.gz\.tmp-[0-9a-f]{12}$/);
    const adapter = fsAdapter({ root });
    expect(await adapter.get("backups/db.gz")).toBeNull();
    expect(await listAll(adapter, "")).toEqual([]);

    await adapter.put("backups/db.gz", new Uint8Array([1, 2]));
    expect(await listAll(adapter, "")).toMatchObject([{ key: "backups/db.gz", size: 2 }]);
  });

  it("creates a missing root on the first put and lists it as empty before", async () => {
    const adapter = fsAdapter({ root: join(root, "deep", "er") });
    expect(await listAll(adapter, "")).toEqual([]);
    expect(await adapter.get("k")).toBeNull();
    await adapter.delete(["k"]);
    await expect(lstat(root)).rejects.toMatchObject({ code: "ENOENT" });
    await adapter.put("k", new Uint8Array([1]));
    expect(await tree(root)).toEqual(["deep", "deep/er", "deep/er/k"]);
  });

  it("treats a missing root as an error with create: false", async () => {
    const adapter = fsAdapter({ root, create: false });
    await expect(listAll(adapter, "")).rejects.toBeInstanceOf(AdapterError);
    await expect(adapter.get("k")).rejects.toBeInstanceOf(AdapterError);
    await expect(adapter.put("k", new Uint8Array([1]))).rejects.toBeInstanceOf(AdapterError);
    await expect(adapter.delete(["k"])).rejects.toBeInstanceOf(AdapterError);
    await expect(lstat(root)).rejects.toMatchObject({ code: "ENOENT" });
    await mkdir(root);
    await adapter.put("sub/k", new Uint8Array([1]));
    expect(await tree(root)).toEqual(["sub", "sub/k"]);
  });

  it("wraps file system failures as AdapterError with the cause", async () => {
    await writeFile(root, "a file where the root directory should be");
    const adapter = fsAdapter({ root });
    const error = await adapter.put("k", new Uint8Array([1])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdapterError);
    expect(error).toMatchObject({ adapter: "fs", operation: "put", key: "k", code: "ADAPTER" });
    expect((error as AdapterError).cause).toMatchObject({ code: expect.stringMatching(/^E/) });
    await expect(listAll(adapter, "")).rejects.toBeInstanceOf(AdapterError);
  });

  it("cannot store an object where other keys form a directory, and reports both as absent/errors cleanly", async () => {
    const adapter = fsAdapter({ root });
    await adapter.put("a/b", new Uint8Array([1]));
    await expect(adapter.put("a", new Uint8Array([2]))).rejects.toBeInstanceOf(AdapterError);
    await expect(adapter.put("a/b/c", new Uint8Array([3]))).rejects.toBeInstanceOf(AdapterError);
    expect(await adapter.get("a")).toBeNull();
    expect(await adapter.get("a/b/c")).toBeNull();
    await adapter.delete(["a", "a/b/c"]);
    expect(await listAll(adapter, "")).toMatchObject([{ key: "a/b", size: 1 }]);
  });

  it("removes directories left empty by a delete, but never the root", async () => {
    const adapter = fsAdapter({ root });
    await adapter.put("x/y/z/1", new Uint8Array([1]));
    await adapter.put("x/keep", new Uint8Array([1]));
    await adapter.delete(["x/y/z/1"]);
    expect(await tree(root)).toEqual(["x", "x/keep"]);
    await adapter.delete(["x/keep"]);
    expect(await tree(root)).toEqual([]);
  });

  it("skips leftover temp files and foreign non-key names when listing", async () => {
    const adapter = fsAdapter({ root });
    await adapter.put("d/k", new Uint8Array([1]));
    await writeFile(join(root, "d", ".k.tmp-0123456789ab"), "partial");
    await writeFile(join(root, "d", "back\\slash"), "not a valid key");
    expect((await listAll(adapter, "")).map((e) => e.key)).toEqual(["d/k"]);
  });

  it("honours fsync: false (still atomic, same results)", async () => {
    const adapter = fsAdapter({ root, fsync: false });
    await adapter.put("k", new Uint8Array([9]));
    expect(await tree(root)).toEqual(["k"]);
  });

  it("streams a get in bounded chunks with the size from fstat", async () => {
    const adapter = fsAdapter({ root });
    await adapter.put("big", new Uint8Array(5 * 1024 * 1024 + 3));
    const got = await adapter.get("big");
    expect(got?.size).toBe(5 * 1024 * 1024 + 3);
    const reader = got!.body.getReader();
    const sizes: number[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) sizes.push(r.value.byteLength);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1024 * 1024);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(5 * 1024 * 1024 + 3);
  });

  it("errors an open get stream when its signal aborts", async () => {
    const adapter = fsAdapter({ root });
    await adapter.put("big", new Uint8Array(4 * 1024 * 1024));
    const controller = new AbortController();
    const got = await adapter.get("big", { signal: controller.signal });
    const reader = got!.body.getReader();
    await reader.read();
    controller.abort();
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return;
      })(),
    ).rejects.toMatchObject({ code: "ABORTED" });
  });
  it("rejects a putIf whose signal aborts after its body is written, and publishes nothing", async () => {
    const adapter = fsAdapter({ root });
    const controller = new AbortController();
    const { signal } = controller;
    // The key's lock exists only once the body is written and sealed, until the rename is done.
    const lock = join(root, "dir", ".key.lock");
    const aborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted")!.get!;
    Object.defineProperty(signal, "aborted", {
      get() {
        if (existsSync(lock)) controller.abort(new Error("stopped"));
        return aborted.call(signal);
      },
    });
    await expect(adapter.putIf!("dir/key", new Uint8Array([1, 2, 3]), { ifNoneMatch: "*" }, { signal })).rejects.toMatchObject({ code: "ABORTED" });
    expect(await adapter.get("dir/key")).toBeNull();
    expect(await tree(root)).toEqual(["dir"]);
  });
});

describe("fs adapter: cleanupIncomplete", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "backupper-fs-cleanup-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("removes only stale temp files of puts under the prefix, never objects or fresh temps", async () => {
    const adapter = fsAdapter({ root });
    await adapter.put("backups/q-1.db.gz", new Uint8Array([1]));
    await mkdir(join(root, "backups"), { recursive: true });
    const stale = "backups/.q-2.db.gz.tmp-0123456789ab";
    const fresh = "backups/.q-3.db.gz.tmp-0123456789ac";
    const other = "backups/.r-1.db.gz.tmp-0123456789ad";
    for (const t of [stale, fresh, other]) await writeFile(join(root, t), "partial");
    const past = new Date(Date.now() - 3_600_000);
    await utimes(join(root, stale), past, past);
    await utimes(join(root, other), past, past);

    const removed = await adapter.cleanupIncomplete!("backups/q-", new Date(Date.now() - 60_000));
    expect(removed).toEqual([stale]);
    expect((await readdir(join(root, "backups"))).sort()).toEqual([".q-3.db.gz.tmp-0123456789ac", ".r-1.db.gz.tmp-0123456789ad", "q-1.db.gz"]);
    expect((await listAll(adapter, "")).map((e) => e.key)).toEqual(["backups/q-1.db.gz"]);
  });
});
