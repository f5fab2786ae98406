import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bytesSource, bytesTarget, createBackupper, streamSource, type BackupInfo, type StorageAdapter } from "../../src/index.js";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { fsAdapter, fileSource, fileTarget } from "../../src/fs.js";
import { BackupError, ConfigError } from "../../src/errors.js";
import { encodeMeta } from "../../src/format/meta.js";
import { streamOf } from "../../src/util/streams.js";
import { randomBytes, sha256 } from "../helpers/data.js";
import { listKeys, putBunqueueBackup, readObject } from "../helpers/fixtures.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "backupper-core-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(BackupError.is(e)).toBe(true);
    return (e as BackupError).code;
  }
  throw new Error("expected a rejection");
}

const adapters: Array<[string, (run: string) => StorageAdapter]> = [
  ["memory", () => memoryAdapter()],
  ["fs", (run) => fsAdapter({ root: join(dir, `store-${run}`) })],
];

describe.each(adapters)("round trips on %s", (_label, makeAdapter) => {
  it.each([
    ["empty", 0],
    ["1 byte", 1],
    ["1 MiB", 1 << 20],
  ])("%s, gzip and raw, native and portable codec", async (_size, n) => {
    const data = randomBytes(n);
    for (const compression of ["gzip", "none"] as const) {
      for (const codec of ["native", "portable"] as const) {
        const adapter = makeAdapter(`${compression}-${codec}`);
        const b = createBackupper({ adapter, source: bytesSource(data, { name: "db" }), compression, codec });
        const info = await b.backup();
        expect(info).toMatchObject({ size: n, checksum: sha256(data), compressed: compression === "gzip", verified: true, codec });
        expect(info.key).toMatch(compression === "gzip" ? /^backups\/db-[^/]*-[a-z0-9]{8}\.db\.gz$/ : /^backups\/db-[^/]*-[a-z0-9]{8}\.db$/);
        const listed = await b.list();
        expect(listed.map((x) => x.key)).toEqual([info.key]);
        expect(listed[0]).toMatchObject({ size: n, compressedSize: info.compressedSize, checksum: info.checksum, verified: true });
        const to = bytesTarget();
        const result = await b.restore(info.key, { to });
        expect(result).toMatchObject({ size: n, checksum: sha256(data), verified: true, codec });
        expect(sha256(to.bytes!)).toBe(sha256(data));
        expect(to.bytes!.byteLength).toBe(n);
        await expect(b.verify(info.key)).resolves.toMatchObject({ size: n, checksum: sha256(data) });
      }
    }
  });
});

describe("backup", () => {
  it("writes metadata last with every docs/FORMAT.md §2 field, and a stored checksum that sha256sum would print", async () => {
    const adapter = memoryAdapter();
    const data = randomBytes(5000);
    const info = await createBackupper({ adapter, source: bytesSource(data, { name: "queue" }) }).backup();
    const meta = JSON.parse(new TextDecoder().decode(await readObject(adapter, info.metaKey)));
    const stored = await readObject(adapter, info.key);
    expect(meta).toEqual({
      timestamp: info.timestamp.toISOString(),
      version: expect.any(String),
      size: 5000,
      compressedSize: stored.byteLength,
      checksum: sha256(data),
      compressed: true,
      format: "backupper/1",
      name: "queue",
      compression: "gzip",
      storedChecksum: sha256(stored),
    });
  });

  it("rejects a second backup while one runs, and 20 concurrent calls run exactly one", async () => {
    const adapter = memoryAdapter();
    const b = createBackupper({ adapter, source: bytesSource(randomBytes(1 << 20), { name: "q" }) });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => b.backup()));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(rejected).toHaveLength(19);
    for (const r of rejected) expect(r.reason.code).toBe("IN_PROGRESS");
    expect(await b.list()).toHaveLength(1);
  });

  it("a failing source leaves nothing behind and reports a SourceError", async () => {
    const adapter = memoryAdapter();
    let sent = 0;
    const source = streamSource(
      () =>
        new ReadableStream({
          pull(c) {
            if (sent++ < 3) c.enqueue(randomBytes(1 << 16, sent));
            else c.error(new Error("disk on fire"));
          },
        }),
      { name: "q" },
    );
    const b = createBackupper({ adapter, source });
    const failed: string[] = [];
    b.on("failed", (e) => failed.push(e.error.code));
    expect(await codeOf(b.backup())).toBe("SOURCE");
    expect(await listKeys(adapter)).toEqual([]);
    expect(failed).toEqual(["SOURCE"]);
    expect(b.status().lastFailure).toMatchObject({ code: "SOURCE" });
  });

  it("an aborted backup rejects with ABORTED and leaves nothing behind", async () => {
    const adapter = memoryAdapter();
    const controller = new AbortController();
    const source = streamSource(
      () =>
        new ReadableStream({
          pull(c) {
            c.enqueue(randomBytes(1 << 16));
            controller.abort();
          },
        }),
      { name: "q" },
    );
    const b = createBackupper({ adapter, source });
    expect(await codeOf(b.backup({ signal: controller.signal }))).toBe("ABORTED");
    expect(await listKeys(adapter)).toEqual([]);
  });

  it("a source whose size changes while it is read fails the backup", async () => {
    const adapter = memoryAdapter();
    const source = streamSource(() => streamOf(randomBytes(100)), { name: "q", size: 200 });
    expect(await codeOf(createBackupper({ adapter, source }).backup())).toBe("SOURCE");
    expect(await listKeys(adapter)).toEqual([]);
  });

  it("emits started, progress, succeeded and pruned, and a throwing listener breaks nothing", async () => {
    const seen: string[] = [];
    const b = createBackupper({
      adapter: memoryAdapter(),
      source: bytesSource(randomBytes(9 << 20), { name: "q" }),
      on: { started: () => void seen.push("started"), succeeded: () => void seen.push("succeeded") },
    });
    b.on("progress", (p) => {
      seen.push(`progress:${p.bytesRead}`);
      throw new Error("listener bug");
    });
    b.on("pruned", () => void seen.push("pruned"));
    await b.backup();
    expect(seen[0]).toBe("started");
    expect(seen).toContain(`progress:${9 << 20}`);
    expect(seen.slice(-2)).toEqual(["succeeded", "pruned"]);
  });
});

describe("options", () => {
  it("are validated at creation with messages naming the option", () => {
    const adapter = memoryAdapter();
    const source = bytesSource(new Uint8Array(1));
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ adapter: {}, source }, /^adapter:/],
      [{ adapter, source: {} }, /^source:/],
      [{ adapter, source, retention: 0 }, /^retention:/],
      [{ adapter, source, retention: "7" }, /^retention:/],
      [{ adapter, source, prefix: "/abs" }, /^prefix:/],
      [{ adapter, source, prefix: "a/../b" }, /^prefix:/],
      [{ adapter, source, compression: "lz4" }, /^compression:/],
      [{ adapter, source, compression: "zstd", compressionLevel: 20 }, /^compression(Level)?:/],
      [{ adapter, source, compressionLevel: 10 }, /^compressionLevel:/],
      [{ adapter, source, interval: 0 }, /^interval:/],
      [{ adapter, source, interval: "6h" }, /^interval:/],
      [{ adapter, source, initialDelay: -1 }, /^initialDelay:/],
      [{ adapter, source, name: "a b" }, /^name:/],
      [{ adapter, source, codec: "fast" }, /^codec:/],
    ];
    for (const [options, message] of bad) {
      expect(() => createBackupper(options as never), JSON.stringify(Object.keys(options))).toThrow(message);
      expect(() => createBackupper(options as never)).toThrow(ConfigError);
    }
  });
});

describe("restore safety (fs target)", () => {
  async function setup() {
    const dbPath = join(dir, "queue.db");
    const original = randomBytes(300_000, 1);
    await writeFile(dbPath, original);
    const adapter = fsAdapter({ root: join(dir, "store") });
    const b = createBackupper({ adapter, source: fileSource(dbPath) });
    const info = await b.backup();
    const current = randomBytes(1234, 2);
    await writeFile(dbPath, current);
    const storePath = (key: string) => join(dir, "store", key);
    return { dbPath, original, adapter, b, info, current, storePath };
  }

  it("restores over an existing target only with force, then byte-identical", async () => {
    const { dbPath, original, b, info, current } = await setup();
    expect(await codeOf(b.restore(info.key))).toBe("TARGET_EXISTS");
    expect(await readFile(dbPath)).toEqual(Buffer.from(current));
    await b.restore(info.key, { force: true });
    expect(sha256(await readFile(dbPath))).toBe(sha256(original));
  });

  const tamper: Array<[string, string[], (s: Awaited<ReturnType<typeof setup>>) => Promise<void>]> = [
    ["flipped byte in the stored data", ["CHECKSUM_MISMATCH", "CORRUPT_DATA"], async ({ info, storePath }) => {
      const bytes = await readFile(storePath(info.key));
      bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
      await writeFile(storePath(info.key), bytes);
    }],
    ["truncated data", ["CORRUPT_DATA"], async ({ info, storePath }) => {
      const bytes = await readFile(storePath(info.key));
      await writeFile(storePath(info.key), bytes.subarray(0, bytes.length - 100));
    }],
    ["tampered checksum in the metadata", ["CHECKSUM_MISMATCH"], async ({ info, storePath }) => {
      const meta = JSON.parse(await readFile(storePath(info.metaKey), "utf8"));
      meta.checksum = "0".repeat(64);
      await writeFile(storePath(info.metaKey), JSON.stringify(meta));
    }],
    ["tampered size in the metadata", ["CORRUPT_DATA"], async ({ info, storePath }) => {
      const meta = JSON.parse(await readFile(storePath(info.metaKey), "utf8"));
      meta.size += 1;
      await writeFile(storePath(info.metaKey), JSON.stringify(meta));
    }],
    ["malformed metadata", ["INVALID_METADATA"], async ({ info, storePath }) => {
      await writeFile(storePath(info.metaKey), "{ not json");
    }],
    ["wrong-typed metadata", ["INVALID_METADATA"], async ({ info, storePath }) => {
      const meta = JSON.parse(await readFile(storePath(info.metaKey), "utf8"));
      meta.size = String(meta.size);
      await writeFile(storePath(info.metaKey), JSON.stringify(meta));
    }],
    ["missing metadata", ["UNVERIFIED"], async ({ info, storePath }) => {
      await rm(storePath(info.metaKey));
    }],
    ["missing data", ["NOT_FOUND"], async ({ info, storePath }) => {
      await rm(storePath(info.key));
    }],
    ["a gzip bomb whose metadata claims a small size", ["CORRUPT_DATA"], async ({ info, storePath }) => {
      const bomb = gzipSync(new Uint8Array(64 << 20));
      await writeFile(storePath(info.key), bomb);
      const meta = JSON.parse(await readFile(storePath(info.metaKey), "utf8"));
      Object.assign(meta, { compressedSize: bomb.length, storedChecksum: sha256(bomb), size: 1000 });
      await writeFile(storePath(info.metaKey), JSON.stringify(meta));
    }],
  ];

  it.each(tamper)("%s: typed error, target byte-identical, no temp file left", async (_label, codes, mutate) => {
    const s = await setup();
    await mutate(s);
    const code = await codeOf(s.b.restore(s.info.key, { force: true }));
    expect(codes).toContain(code);
    expect(await readFile(s.dbPath)).toEqual(Buffer.from(s.current));
    const { readdir } = await import("node:fs/promises");
    expect((await readdir(dir)).filter((f) => f.includes(".restore-"))).toEqual([]);
    if (code !== "NOT_FOUND" && code !== "UNVERIFIED" && code !== "INVALID_METADATA") {
      expect(await codeOf(s.b.verify(s.info.key))).toBe(code);
    }
  });

  it("refuses keys outside its prefix or of another source", async () => {
    const { b, info } = await setup();
    expect(await codeOf(b.restore(info.key.replace("backups/", "other/"), { force: true }))).toBe("INVALID_KEY");
    expect(await codeOf(b.restore(info.key.replace("queue-", "queue-archive-"), { force: true }))).toBe("INVALID_KEY");
    expect(await codeOf(b.restore(info.metaKey, { force: true }))).toBe("INVALID_KEY");
    expect(await codeOf(b.restore("backups/../etc/passwd", { force: true }))).toBe("INVALID_KEY");
    expect(await codeOf(b.verify("backups/queue-2026-01-01T00-00-00-000Z-nope1234.db.gz"))).toBe("NOT_FOUND");
  });

  it("restores to another path with `to`", async () => {
    const { original, b, info } = await setup();
    const other = join(dir, "copy.db");
    await b.restore(info.key, { to: other });
    expect(sha256(await readFile(other))).toBe(sha256(original));
    await b.restore(info.key, { to: fileTarget(join(dir, "copy2.db")) });
    expect(sha256(await readFile(join(dir, "copy2.db")))).toBe(sha256(original));
  });
});

describe("bunqueue backups", () => {
  const db = new TextEncoder().encode("SQLite format 3\0" + "x".repeat(5000));
  const uuid = "0b9f3c1e-4a4e-4f8e-9a61-5d8f1f6a2c3b";

  it("lists and restores all three formats; the metadata-less one needs allowUnverified", async () => {
    const adapter = memoryAdapter();
    const keys = {
      current: `backups/bunqueue-2025-01-03T00-00-00-000Z-${uuid}.db`,
      oldest: "backups/bunqueue-2025-01-02T00-00-00-000Z.db",
      "no-meta-gzip": "backups/bunqueue-2025-01-01T00-00-00-000Z.db",
      "no-meta-raw": "backups/bunqueue-2024-12-31T00-00-00-000Z.db",
    } as const;
    for (const [format, key] of Object.entries(keys)) await putBunqueueBackup(adapter, key, db, format as keyof typeof keys);
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array(), { name: "bunqueue" }) });
    const listed = await b.list();
    expect(listed.map((x) => [x.key, x.verified])).toEqual([
      [keys.current, true],
      [keys.oldest, true],
      [keys["no-meta-gzip"], false],
      [keys["no-meta-raw"], false],
    ]);
    for (const key of [keys.current, keys.oldest]) {
      const to = bytesTarget();
      await expect(b.restore(key, { to })).resolves.toMatchObject({ verified: true, size: db.byteLength });
      expect(to.bytes).toEqual(db);
    }
    for (const key of [keys["no-meta-gzip"], keys["no-meta-raw"]]) {
      expect(await codeOf(b.restore(key, { to: bytesTarget() }))).toBe("UNVERIFIED");
      const to = bytesTarget();
      await expect(b.restore(key, { to, allowUnverified: true })).resolves.toMatchObject({ verified: false, checksum: sha256(db) });
      expect(to.bytes).toEqual(db);
    }
  });

  it("caps metadata-less restores at maxRestoreBytes", async () => {
    const adapter = memoryAdapter();
    const key = "backups/bunqueue-2025-01-01T00-00-00-000Z.db";
    await putBunqueueBackup(adapter, key, new Uint8Array(1 << 20), "no-meta-gzip");
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array(), { name: "bunqueue" }), maxRestoreBytes: 1000 });
    expect(await codeOf(b.restore(key, { to: bytesTarget(), allowUnverified: true }))).toBe("CORRUPT_DATA");
  });
});

describe("retention and listing", () => {
  async function backups(n: number, b: ReturnType<typeof createBackupper>): Promise<BackupInfo[]> {
    const out: BackupInfo[] = [];
    for (let i = 0; i < n; i++) {
      out.push(await b.backup());
      await new Promise((r) => setTimeout(r, 2));
    }
    return out;
  }

  it("keeps the newest N after each backup, and leaves other sources and prefixes alone", async () => {
    const adapter = memoryAdapter();
    const other = createBackupper({ adapter, source: bytesSource(randomBytes(10), { name: "queue-archive" }), retention: 1 });
    const elsewhere = createBackupper({ adapter, source: bytesSource(randomBytes(10), { name: "queue" }), prefix: "elsewhere/", retention: 1 });
    const otherInfos = await backups(2, other);
    const elsewhereInfo = await elsewhere.backup();
    const b = createBackupper({ adapter, source: bytesSource(randomBytes(10), { name: "queue" }), retention: 3 });
    const made = await backups(5, b);
    expect((await b.list()).map((x) => x.key)).toEqual(made.slice(2).reverse().map((x) => x.key));
    const keys = await listKeys(adapter);
    expect(keys).toContain(otherInfos[1]!.key);
    expect(keys).toContain(elsewhereInfo.key);
    expect(keys.filter((k) => k.startsWith("backups/queue-2"))).toHaveLength(6);
    expect(b.status().backups).toBe(3);
  });

  it("prune dryRun reports without deleting; incomplete objects go only after the grace period", async () => {
    const adapter = memoryAdapter();
    const b = createBackupper({ adapter, source: bytesSource(randomBytes(10), { name: "q" }), retention: 2, incompleteGrace: 0 });
    const made = await backups(2, b);
    const stale = "backups/q-2020-01-01T00-00-00-000Z-aaaaaaaa.db.gz";
    const orphanMeta = "backups/q-2020-01-01T00-00-00-000Z-bbbbbbbb.db.gz.meta.json";
    await adapter.put(stale, gzipSync(new Uint8Array(10)));
    await adapter.put(orphanMeta, encodeMeta({ timestamp: "2020-01-01T00:00:00Z", version: "x", size: 1, checksum: "0".repeat(64) }));
    expect((await b.list()).map((x) => x.key)).toEqual(made.reverse().map((x) => x.key));

    const patient = createBackupper({ adapter, source: bytesSource(randomBytes(10), { name: "q" }), retention: 1 });
    const dry = await patient.prune({ dryRun: true });
    expect(dry.deleted.map((d) => d.key)).toEqual([made[1]!.key]);
    expect(dry.incomplete).toEqual([]);
    expect(await listKeys(adapter)).toHaveLength(6);

    const report = await b.prune();
    expect(report.incomplete.sort()).toEqual([stale, orphanMeta].sort());
    expect(await listKeys(adapter)).toHaveLength(4);
  });

  it("asks the adapter to clean up abandoned uploads of this source after the grace period, never on a dry run", async () => {
    const calls: Array<[string, number]> = [];
    const base = memoryAdapter();
    const adapter: StorageAdapter = {
      ...base,
      async cleanupIncomplete(prefix, olderThan) {
        calls.push([prefix, olderThan.getTime()]);
        return [`upload-under-${prefix}`];
      },
    };
    const b = createBackupper({ adapter, source: bytesSource(randomBytes(10), { name: "q" }), incompleteGrace: 60_000 });
    await b.prune({ dryRun: true });
    expect(calls).toEqual([]);
    const before = Date.now();
    const report = await b.prune();
    expect(report.abandonedUploads).toEqual(["upload-under-backups/q-"]);
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBe("backups/q-");
    expect(calls[0]![1]).toBeGreaterThanOrEqual(before - 60_000);
    expect(calls[0]![1]).toBeLessThanOrEqual(Date.now() - 60_000);
  });

  it("does not count a backup whose metadata disagrees with the stored size as verified, so retention keeps an intact one", async () => {
    const adapter = memoryAdapter();
    const writer = createBackupper({ adapter, source: bytesSource(randomBytes(1000), { name: "q" }), retention: 2 });
    const older = await writer.backup();
    await new Promise((r) => setTimeout(r, 2));
    const newer = await writer.backup();
    const meta = JSON.parse(new TextDecoder().decode(await readObject(adapter, newer.metaKey)));
    meta.compressedSize += 1;
    await adapter.put(newer.metaKey, encodeMeta(meta));
    const b = createBackupper({ adapter, source: bytesSource(randomBytes(1000), { name: "q" }), retention: 1 });
    const listed = await b.list();
    expect(listed.find((x) => x.key === newer.key)).toMatchObject({ verified: false, problem: expect.stringContaining("stored") });
    const report = await b.prune({ dryRun: true });
    expect(report.kept.map((k) => k.key)).toContain(older.key);
  });
});
