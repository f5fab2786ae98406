import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, SourceError, TargetExistsError } from "../../src/errors.js";
import { fileSource, fileTarget } from "../../src/fs.js";
import type { RestoreStaging } from "../../src/types.js";
import { readAll } from "../adapters/conformance.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "backupper-file-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = (text: string) => new TextEncoder().encode(text);

async function writeAll(staging: RestoreStaging, text: string): Promise<void> {
  // Several writes, so the target sees appends rather than one buffer.
  for (const part of text.match(/.{1,4}/gs) ?? []) await staging.write(bytes(part));
}

describe("fileSource", () => {
  it("derives its name from the file name without extensions", () => {
    expect(fileSource("/data/queue.db").name).toBe("queue");
    expect(fileSource("/data/backup.tar.gz").name).toBe("backup");
    expect(fileSource("/data/.hidden.sqlite").name).toBe("hidden");
    expect(fileSource("/data/my data (copy).db").name).toBe("my-data-copy");
    expect(fileSource("/data/jobs_v2-prod").name).toBe("jobs_v2-prod");
    expect(fileSource("/data/x.db", { name: "custom.name_1-a" }).name).toBe("custom.name_1-a");
  });

  it("refuses a name it cannot derive or that is invalid, and an empty path, naming the option", () => {
    expect(() => fileSource("/data/日本.db")).toThrow(/^name: /);
    expect(() => fileSource("/data/x.db", { name: "" })).toThrow(ConfigError);
    expect(() => fileSource("/data/x.db", { name: "a/b" })).toThrow(/^name: /);
    expect(() => fileSource("")).toThrow(/^path: /);
  });

  it("streams the file with its size, in chunks of at most 1 MiB", async () => {
    const path = join(dir, "data.bin");
    const content = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) % 251);
    await writeFile(path, content);
    const snapshot = await fileSource(path).snapshot({});
    expect(snapshot.size).toBe(content.byteLength);
    const reader = snapshot.stream.getReader();
    const chunks: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    await snapshot.release?.();
    expect(Math.max(...chunks.map((c) => c.byteLength))).toBeLessThanOrEqual(1024 * 1024);
    expect(Buffer.concat(chunks).equals(content)).toBe(true);
  });

  it("reads exactly the size seen when the snapshot was taken, even if the file grows", async () => {
    const path = join(dir, "log");
    await writeFile(path, "first part|");
    const snapshot = await fileSource(path).snapshot({});
    await writeFile(path, "first part|appended later", { flag: "a" });
    expect(new TextDecoder().decode(await readAll(snapshot.stream))).toBe("first part|");
    await snapshot.release?.();
  });

  it("rejects a missing or unreadable source with SourceError naming the path", async () => {
    const missing = join(dir, "missing.db");
    await expect(fileSource(missing).snapshot({})).rejects.toThrow(SourceError);
    await expect(fileSource(missing).snapshot({})).rejects.toThrow(missing);
    await expect(fileSource(dir).snapshot({})).rejects.toThrow(SourceError);
  });

  it("releases an unread snapshot, and its stream then no longer reads", async () => {
    const path = join(dir, "x");
    await writeFile(path, "content");
    const snapshot = await fileSource(path).snapshot({});
    await snapshot.release?.();
    await snapshot.release?.();
    await expect(readAll(snapshot.stream)).rejects.toThrow(SourceError);
  });

  it("rejects with ABORTED for an aborted signal, before and during streaming", async () => {
    const path = join(dir, "x");
    await writeFile(path, new Uint8Array(3 * 1024 * 1024));
    await expect(fileSource(path).snapshot({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: "ABORTED" });
    const controller = new AbortController();
    const snapshot = await fileSource(path).snapshot({ signal: controller.signal });
    const reader = snapshot.stream.getReader();
    await reader.read();
    controller.abort();
    await expect(reader.read()).rejects.toMatchObject({ code: "ABORTED" });
    await snapshot.release?.();
  });

  it("restores to its own path by default, or to another path", () => {
    const source = fileSource("/data/queue.db");
    expect(source.target?.().description).toBe("/data/queue.db");
    expect(source.target?.("/elsewhere/copy.db").description).toBe("/elsewhere/copy.db");
  });
});

describe("fileTarget", () => {
  it("writes a new file on commit, creating its directory", async () => {
    const path = join(dir, "new", "restored.db");
    const staging = await fileTarget(path).begin({ force: false });
    await writeAll(staging, "restored content");
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
    await staging.commit();
    expect(await readFile(path, "utf8")).toBe("restored content");
    expect(await readdir(join(dir, "new"))).toEqual(["restored.db"]);
  });

  it("refuses an existing target without force and leaves it unchanged", async () => {
    const path = join(dir, "db");
    await writeFile(path, "precious");
    await expect(fileTarget(path).begin({ force: false })).rejects.toBeInstanceOf(TargetExistsError);
    expect(await readFile(path, "utf8")).toBe("precious");
    expect(await readdir(dir)).toEqual(["db"]);
  });

  it("refuses a directory as target, even with force", async () => {
    await expect(fileTarget(dir).begin({ force: true })).rejects.toThrow(/not a regular file/);
  });

  it("leaves the target byte-identical and no temp file after abort", async () => {
    const path = join(dir, "db");
    await writeFile(path, "precious");
    const staging = await fileTarget(path).begin({ force: true });
    await writeAll(staging, "half-written replacement");
    expect((await readdir(dir)).some((name) => name.startsWith("db.restore-"))).toBe(true);
    expect(await readFile(path, "utf8")).toBe("precious");
    await staging.abort();
    await staging.abort();
    expect(await readFile(path, "utf8")).toBe("precious");
    expect(await readdir(dir)).toEqual(["db"]);
  });

  it("passes the complete temp file to validate, and on a throw keeps the target and removes the temp", async () => {
    const path = join(dir, "db");
    await writeFile(path, "precious");
    let seen = "";
    const failure = new Error("integrity check failed");
    const target = fileTarget(path, {
      async validate(tempPath) {
        seen = await readFile(tempPath, "utf8");
        throw failure;
      },
    });
    const staging = await target.begin({ force: true });
    await writeAll(staging, "bad replacement");
    await expect(staging.commit()).rejects.toBe(failure);
    expect(seen).toBe("bad replacement");
    expect(await readFile(path, "utf8")).toBe("precious");
    expect(await readdir(dir)).toEqual(["db"]);
  });

  it("moves existing sidecars aside on commit", async () => {
    const path = join(dir, "db");
    await writeFile(path, "old db");
    await writeFile(`${path}-wal`, "stale wal");
    await writeFile(`${path}-shm`, "stale shm");
    const staging = await fileTarget(path, { sidecars: ["-wal", "-shm", "-journal"] }).begin({ force: true });
    await writeAll(staging, "new db");
    await staging.commit();
    expect(await readFile(path, "utf8")).toBe("new db");
    const names = (await readdir(dir)).sort();
    expect(names).toHaveLength(3);
    expect(names[0]).toBe("db");
    expect(names[1]).toMatch(/^db-shm\.pre-restore-[0-9a-f]{12}$/);
    expect(names[2]).toMatch(/^db-wal\.pre-restore-[0-9a-f]{12}$/);
    expect(await readFile(join(dir, names[2] as string), "utf8")).toBe("stale wal");
  });

  it("puts the sidecars back and keeps the target when the final rename fails", async () => {
    const path = join(dir, "db");
    await writeFile(path, "old db");
    await writeFile(`${path}-wal`, "stale wal");
    const staging = await fileTarget(path, {
      sidecars: ["-wal", "-shm"],
      // Replace the target by a non-empty directory after validation: rename(file, dir) then fails.
      async validate() {
        await rm(path);
        await mkdir(path);
        await writeFile(join(path, "inside"), "x");
      },
    }).begin({ force: true });
    await writeAll(staging, "new db");
    await expect(staging.commit()).rejects.toThrow(SourceError);
    expect((await readdir(dir)).sort()).toEqual(["db", "db-wal"]);
    expect(await readFile(`${path}-wal`, "utf8")).toBe("stale wal");
    expect(await readdir(path)).toEqual(["inside"]);
  });

  it("keeps the replaced file's mode", async () => {
    const path = join(dir, "db");
    await writeFile(path, "old");
    await chmod(path, 0o640);
    const staging = await fileTarget(path).begin({ force: true });
    await writeAll(staging, "new");
    await staging.commit();
    expect((await stat(path)).mode & 0o7777).toBe(0o640);
    expect(await readFile(path, "utf8")).toBe("new");
  });

  it("replaces the file a symbolic link points to, keeping the link", async () => {
    const real = join(dir, "real.db");
    const link = join(dir, "link.db");
    await writeFile(real, "old");
    await symlink(real, link);
    const staging = await fileTarget(link).begin({ force: true });
    await writeAll(staging, "new");
    await staging.commit();
    expect(await readFile(real, "utf8")).toBe("new");
    expect((await readdir(dir)).sort()).toEqual(["link.db", "real.db"]);
    expect(await readFile(link, "utf8")).toBe("new");
  });

  it("rejects begin with ABORTED for an aborted signal and creates nothing", async () => {
    const path = join(dir, "db");
    await expect(fileTarget(path).begin({ force: true, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: "ABORTED" });
    expect(await readdir(dir)).toEqual([]);
  });

  it("validates its options when created", () => {
    expect(() => fileTarget("")).toThrow(/^path: /);
    expect(() => fileTarget("/x", { sidecars: ["-wal", ""] })).toThrow(/^sidecars: /);
    expect(() => fileTarget("/x", { sidecars: "-wal" as never })).toThrow(/^sidecars: /);
  });
});

describe("fileTarget: leftovers of killed restores", () => {
  it("removes <target>.restore-<id> files older than an hour, and keeps younger ones", async () => {
    const target = join(dir, "queue.db");
    await writeFile(target, "current");
    const stale = `${target}.restore-0123456789ab`;
    const fresh = `${target}.restore-0123456789ac`;
    const unrelated = `${target}.restore-notours`;
    for (const f of [stale, fresh, unrelated]) await writeFile(f, "partial");
    const past = new Date(Date.now() - 2 * 3_600_000);
    for (const f of [stale, unrelated]) await utimes(f, past, past);

    const staging = await fileTarget(target).begin({ force: true });
    await staging.abort();
    expect((await readdir(dir)).sort()).toEqual(["queue.db", "queue.db.restore-0123456789ac", "queue.db.restore-notours"]);
    expect(await readFile(target, "utf8")).toBe("current");
  });
});
