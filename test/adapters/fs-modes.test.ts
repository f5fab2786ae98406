/**
 * Private by default: the fs adapter creates objects 0600 and directories 0700 (wider only when
 * asked), file sources record their mode in the metadata, and a restore to a new path gives the
 * file that mode while an existing target keeps its own.
 */
import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileSource, fsAdapter } from "../../src/fs.js";
import { bytesSource, createBackupper } from "../../src/index.js";
import { sqliteSource } from "../../src/sqlite.js";
import { Database } from "../fixtures/sqlite-live.js";
import { randomBytes } from "../helpers/data.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "backupper-modes-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe.skipIf(process.platform === "win32")("file modes", () => {
  it("the fs adapter creates objects 0600 and directories 0700 by default", async () => {
    const root = join(dir, "store");
    const info = await createBackupper({ adapter: fsAdapter({ root }), source: bytesSource(randomBytes(100), { name: "db" }) }).backup();
    expect(await modeOf(root)).toBe(0o700);
    expect(await modeOf(join(root, "backups"))).toBe(0o700);
    expect(await modeOf(join(root, info.key))).toBe(0o600);
    expect(await modeOf(join(root, info.metaKey))).toBe(0o600);
  });

  it("`mode` and `dirMode` widen them, and bad values are refused", async () => {
    const root = join(dir, "shared");
    const info = await createBackupper({ adapter: fsAdapter({ root, mode: 0o640, dirMode: 0o750 }), source: bytesSource(randomBytes(100), { name: "db" }) }).backup();
    expect(await modeOf(join(root, info.key))).toBe(0o640);
    expect(await modeOf(join(root, "backups"))).toBe(0o750);
    expect(() => fsAdapter({ root, mode: 0o1000 })).toThrow(/mode/);
    expect(() => fsAdapter({ root, dirMode: "755" as unknown as number })).toThrow(/dirMode/);
  });

  it.each([0o600, 0o640])("a %o source is recorded as such, and restored to a new path with that mode", async (mode) => {
    const source = join(dir, "queue.db");
    await writeFile(source, randomBytes(5000));
    await chmod(source, mode);
    const b = createBackupper({ adapter: fsAdapter({ root: join(dir, "store") }), source: fileSource(source) });
    const info = await b.backup();
    expect(info.meta?.mode).toBe(mode.toString(8));
    const fresh = join(dir, "restored", "queue.db");
    await b.restore(info.key, { to: fresh });
    expect(await modeOf(fresh)).toBe(mode);
  });

  it("a SQLite source records the database's mode, not its 0600 snapshot's", async () => {
    const path = join(dir, "jobs.db");
    const db = new Database(path);
    db.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    db.close();
    await chmod(path, 0o640);
    const b = createBackupper({ adapter: fsAdapter({ root: join(dir, "store") }), source: sqliteSource({ path }) });
    const info = await b.backup();
    expect(info.meta?.mode).toBe("640");
    const fresh = join(dir, "restored.db");
    await b.restore(info.key, { to: fresh });
    expect(await modeOf(fresh)).toBe(0o640);
  });

  it("an existing target keeps its own mode", async () => {
    const source = join(dir, "queue.db");
    await writeFile(source, randomBytes(5000));
    await chmod(source, 0o600);
    const b = createBackupper({ adapter: fsAdapter({ root: join(dir, "store") }), source: fileSource(source) });
    const info = await b.backup();
    const existing = join(dir, "existing.db");
    await writeFile(existing, "old");
    await chmod(existing, 0o644);
    await b.restore(info.key, { to: existing, force: true });
    expect(await modeOf(existing)).toBe(0o644);
  });
});
