/**
 * Bad input, generated: property tests (fast-check) for everything that parses what a user, a
 * bucket or another writer hands us — metadata, keys, options, CLI flags and variables — and
 * for the retention planner's safety invariants, plus the restore refusals (foreign keys,
 * `..`, decompression bombs).
 */

import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { parseConfig } from "../../src/cli/config.js";
import { BackupError, ConfigError, InvalidMetadataError, createBackupper, bytesSource, bytesTarget } from "../../src/index.js";
import { checkName, dataKey, isLegacyId, parseDataKey, timestampToKeyPart } from "../../src/format/keys.js";
import { encodeMeta, parseMeta } from "../../src/format/meta.js";
import { planRetention, type RetentionCandidate, type RetentionPolicy } from "../../src/retention/policy.js";
import type { BackupMeta, StorageAdapter } from "../../src/types.js";
import { sha256 } from "../helpers/data.js";
import { listKeys } from "../helpers/fixtures.js";
import { ledger } from "./ledger.js";

const log = ledger(import.meta.filename);
const RUNS = 300;

/** Runs a property and records it in the ledger with the number of generated inputs. */
function property<T extends [unknown, ...unknown[]]>(scenario: string, expected: string, runs: number, prop: fc.IProperty<T> | fc.IAsyncProperty<T>) {
  return async () => {
    await fc.assert(prop, { numRuns: runs });
    log.record({ kind: "bad-input", scenario, expected, observed: `held for ${runs} generated inputs`, faults: runs, bytesLost: 0 });
  };
}

const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const date = fc.date({ min: new Date(MIN_TIME), max: new Date(MAX_TIME), noInvalidDate: true });
const nameArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/).filter((n) => {
  try {
    checkName(n);
    return true;
  } catch {
    return false;
  }
});
const idArb = fc.stringMatching(/^[0-9a-z]{8}$/);
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const prefixArb = fc.constantFrom("backups/", "", "a/b/", "backups", "x-");

describe("metadata parser", () => {
  const validMeta = fc.record({
    timestamp: date.map((d) => d.toISOString()),
    version: fc.string(),
    size: fc.nat(),
    compressedSize: fc.nat(),
    checksum: hex64,
    compressed: fc.boolean(),
    storedChecksum: hex64,
    extra: fc.jsonValue(),
  });

  it(
    "round-trips every valid metadata object, keeping unknown fields",
    property("metadata: valid objects round-trip", "parsed equal to written", RUNS, fc.property(validMeta, (meta) => {
      expect(parseMeta("k.meta.json", encodeMeta(meta as BackupMeta))).toEqual(JSON.parse(JSON.stringify(meta)));
    })),
  );

  it(
    "answers any bytes with metadata or an InvalidMetadataError, never another exception",
    property("metadata: arbitrary bytes", "InvalidMetadataError or valid", RUNS, fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        parseMeta("k.meta.json", bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidMetadataError);
      }
    })),
  );

  it(
    "refuses any required field removed or replaced by a wrong-typed value, naming the field",
    property(
      "metadata: missing / wrong-typed fields",
      "InvalidMetadataError naming the field",
      RUNS,
      fc.property(
        validMeta,
        fc.constantFrom("timestamp", "version", "size", "checksum", "compressedSize", "storedChecksum", "compressed"),
        fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant(-1), fc.constant(1.5), fc.constant("12"), fc.constant([]), fc.constant({}), fc.constant("not-a-hash")),
        (meta, field, value) => {
          const required = ["timestamp", "version", "size", "checksum"].includes(field);
          if (value === undefined && !required) return; // optional fields may be absent
          if (field === "version" && typeof value === "string") return; // any string version is valid
          if (field === "timestamp" && value === "12") return; // Date.parse accepts "12": a year
          const broken: Record<string, unknown> = { ...meta, [field]: value };
          if (value === undefined) delete broken[field];
          let caught: unknown;
          try {
            parseMeta("k.meta.json", new TextEncoder().encode(JSON.stringify(broken)));
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(InvalidMetadataError);
          const named = (caught as InvalidMetadataError).field;
          expect(named === undefined || named === field, `field ${String(named)} for ${field}`).toBe(true);
        },
      ),
    ),
  );

  it("refuses metadata larger than 64 KiB without parsing it", () => {
    const huge = encodeMeta({ timestamp: new Date().toISOString(), version: "1", size: 1, checksum: "0".repeat(64), pad: "x".repeat(70_000) });
    expect(() => parseMeta("k.meta.json", huge)).toThrow(InvalidMetadataError);
  });
});

describe("key parser", () => {
  it(
    "parses every key it writes back to the same time and id, and re-serialises it exactly",
    property("keys: written keys round-trip", "same timestamp and id", RUNS, fc.property(prefixArb, nameArb, date, idArb, fc.boolean(), (prefix, name, d, id, gz) => {
      const key = dataKey(prefix, name, d, id, gz);
      const parsed = parseDataKey(prefix, name, key);
      expect(parsed).toEqual({ timestamp: d, id, suffix: gz ? ".gz" : "" });
      expect(dataKey(prefix, name, parsed!.timestamp, parsed!.id!, parsed!.suffix === ".gz")).toBe(key);
    })),
  );

  it(
    "parses bunqueue keys (with and without UUID) as legacy",
    property("keys: bunqueue keys", "parsed, legacy id", RUNS, fc.property(date, fc.option(fc.uuid(), { nil: undefined }), (d, uuid) => {
      const key = `backups/bunqueue-${timestampToKeyPart(d)}${uuid ? `-${uuid}` : ""}.db`;
      const parsed = parseDataKey("backups/", "bunqueue", key);
      expect(parsed?.timestamp).toEqual(d);
      expect(isLegacyId(parsed?.id)).toBe(true);
    })),
  );

  it(
    "never claims a key of another name under the same prefix (queue vs queue-archive, and names with timestamps inside)",
    property(
      "keys: another source's keys",
      "never parsed as ours",
      RUNS * 2,
      fc.property(
        prefixArb,
        nameArb,
        fc.oneof(nameArb, fc.tuple(nameArb, date, nameArb).map(([a, d, b]) => `${a}-${timestampToKeyPart(d)}-${b}`)),
        date,
        idArb,
        (prefix, ours, suffixOrName, d, id) => {
          // Other names: arbitrary ones, ones that start with our name plus a dash, and our name plus a key-like timestamp.
          const stamped = `${ours}-${timestampToKeyPart(d)}-${suffixOrName}`;
          for (const other of [suffixOrName, `${ours}-${suffixOrName}`, stamped]) {
            if (other === ours) continue;
            try {
              checkName(other);
            } catch {
              continue; // a name the library refuses can never write keys
            }
            const key = dataKey(prefix, other, d, id, true);
            expect(parseDataKey(prefix, ours, key), `${ours} claims ${key}`).toBeUndefined();
          }
        },
      ),
    ),
  );

  it(
    "answers garbage with undefined and never throws",
    property("keys: garbage strings", "undefined, no exception", RUNS * 3, fc.property(fc.string({ unit: "binary", maxLength: 120 }), nameArb, (key, name) => {
      const parsed = parseDataKey("backups/", name, key);
      if (parsed) expect(Number.isNaN(parsed.timestamp.getTime())).toBe(false);
    })),
  );
});

describe("retention planner", () => {
  const candidates = fc.uniqueArray(
    fc.record({ key: fc.stringMatching(/^k[0-9a-z]{1,6}$/), timestamp: fc.date({ min: new Date(Date.UTC(2020, 0, 1)), max: new Date(Date.UTC(2026, 0, 1)), noInvalidDate: true }), verified: fc.boolean() }),
    { selector: (c) => c.key, maxLength: 60 },
  );
  const policy: fc.Arbitrary<RetentionPolicy> = fc
    .record(
      { last: fc.nat(10), hourly: fc.nat(6), daily: fc.nat(10), weekly: fc.nat(6), monthly: fc.nat(6), yearly: fc.nat(3), within: fc.nat(90 * 86_400_000) },
      { requiredKeys: [] },
    )
    .filter((p) => Object.values(p).some((v) => (v ?? 0) > 0));

  const newestFirst = (list: RetentionCandidate[]) =>
    [...list].sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime() || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));

  /** An independent model of the policy: group by calendar bucket, keep the newest of each of the newest N buckets. */
  function model(list: RetentionCandidate[], p: RetentionPolicy, protect: Set<string>): Set<string> {
    const sorted = newestFirst(list);
    const keep = new Set(sorted.slice(0, p.last ?? 0).map((c) => c.key));
    const buckets: Record<string, (d: Date) => string> = {
      hourly: (d) => d.toISOString().slice(0, 13),
      daily: (d) => d.toISOString().slice(0, 10),
      weekly: (d) => {
        // ISO week: the Thursday of the week decides its year.
        const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
        t.setUTCDate(t.getUTCDate() + 3 - ((t.getUTCDay() + 6) % 7));
        return t.toISOString().slice(0, 10);
      },
      monthly: (d) => d.toISOString().slice(0, 7),
      yearly: (d) => d.toISOString().slice(0, 4),
    };
    for (const [rule, bucketOf] of Object.entries(buckets)) {
      const newestPerBucket = new Map<string, string>();
      for (const c of sorted) if (!newestPerBucket.has(bucketOf(c.timestamp))) newestPerBucket.set(bucketOf(c.timestamp), c.key);
      [...newestPerBucket.values()].slice(0, p[rule as keyof RetentionPolicy] ?? 0).forEach((k) => keep.add(k));
    }
    if (p.within && sorted[0]) for (const c of sorted) if (c.timestamp.getTime() >= sorted[0].timestamp.getTime() - p.within) keep.add(c.key);
    const newestVerified = sorted.find((c) => c.verified);
    if (newestVerified) keep.add(newestVerified.key);
    for (const k of protect) if (list.some((c) => c.key === k)) keep.add(k);
    return keep;
  }

  it(
    "keeps exactly what the policy says, always the newest verified and the protected, decides every key once, and is deterministic",
    property(
      "retention planner invariants",
      "exact policy; newest verified kept; deterministic",
      RUNS * 2,
      fc.property(candidates, policy, fc.integer({ min: 0 }), fc.integer({ min: 0 }), (list, p, protectIndex, seed) => {
        const protect = new Set(list.length ? [list[protectIndex % list.length]!.key] : []);
        const decisions = planRetention(list, p, protect);
        expect(decisions.map((d) => d.key).sort()).toEqual(list.map((c) => c.key).sort());
        const kept = new Set(decisions.filter((d) => d.keep).map((d) => d.key));
        expect(kept).toEqual(model(list, p, protect));
        const newestVerified = newestFirst(list).find((c) => c.verified);
        if (newestVerified) expect(kept.has(newestVerified.key)).toBe(true);
        const shuffled = fc.sample(fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }), { numRuns: 1, seed })[0]!;
        expect(planRetention(shuffled, p, protect)).toEqual(decisions);
      }),
    ),
  );

  it(
    "through prune: never deletes another source's, another prefix's or a bunqueue key, nor this source's newest verified backup",
    property(
      "prune with mixed keys in one bucket",
      "only this source's expired backups deleted",
      60,
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("ours", "ours-incomplete", "queue-archive", "other-prefix", "bunqueue", "garbage", "ours-bad-meta"), date, idArb), { maxLength: 25 }),
        fc.integer({ min: 1, max: 5 }),
        async (objects, keep) => {
          const adapter = memoryAdapter();
          const meta = (d: Date) => encodeMeta({ timestamp: d.toISOString(), version: "t", size: 1, compressedSize: 1, checksum: sha256(new Uint8Array([1])), compressed: false });
          const ours: Array<{ key: string; timestamp: Date; verified: boolean }> = [];
          for (const [kind, d, id] of objects) {
            const key =
              kind === "queue-archive" ? dataKey("backups/", "queue-archive", d, id, false)
              : kind === "other-prefix" ? dataKey("other/", "queue", d, id, false)
              : kind === "bunqueue" ? `backups/bunqueue-${timestampToKeyPart(d)}.db`
              : kind === "garbage" ? `backups/queue-${id}.db`
              : dataKey("backups/", "queue", d, id, false);
            await adapter.put(key, new Uint8Array([1]));
            if (kind === "ours-bad-meta") await adapter.put(`${key}.meta.json`, new TextEncoder().encode("{not json"));
            else if (kind !== "ours-incomplete" && kind !== "garbage") await adapter.put(`${key}.meta.json`, meta(d));
            if (kind === "ours" || kind === "ours-bad-meta") ours.push({ key, timestamp: d, verified: kind === "ours" });
          }
          const before = await listKeys(adapter);
          const b = createBackupper({ adapter, source: bytesSource(new Uint8Array([1]), { name: "queue" }), retention: keep, incompleteGrace: 0 });
          await b.prune();
          const after = new Set(await listKeys(adapter));
          for (const key of before) {
            const mine = key.startsWith("backups/queue-") && parseDataKey("backups/", "queue", key.replace(/\.meta\.json$/, ""));
            if (!mine) expect(after.has(key), `foreign key ${key} deleted`).toBe(true);
          }
          const newestVerified = newestFirst(ours).find((c) => c.verified);
          if (newestVerified) {
            expect(after.has(newestVerified.key)).toBe(true);
            expect(after.has(`${newestVerified.key}.meta.json`)).toBe(true);
          }
        },
      ),
    ),
  );
});

describe("configuration", () => {
  const anything = fc.oneof(fc.anything(), fc.integer(), fc.double(), fc.string(), fc.constantFrom(0, -1, 1.5, NaN, Infinity, "7", null, [], {}));
  const OPTIONS = ["retention", "name", "prefix", "compression", "compressionLevel", "interval", "initialDelay", "incompleteGrace", "maxRestoreBytes", "codec", "on"];

  it(
    "createBackupper: any value of any option is accepted or refused with a ConfigError naming that option",
    property("createBackupper options", "accepted, or ConfigError naming the option", RUNS * 2, fc.property(fc.constantFrom(...OPTIONS), anything, (option, value) => {
      try {
        createBackupper({ adapter: memoryAdapter(), source: bytesSource(new Uint8Array(1)), [option]: value });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).option.split(".")[0]).toBe(option);
      }
    })),
  );

  const VARIABLES = [
    "S3_BACKUP_ENABLED", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_BUCKET", "S3_REGION", "S3_BACKUP_INTERVAL",
    "S3_BACKUP_RETENTION", "S3_BACKUP_PREFIX", "S3_ENDPOINT", "S3_FORCE_PATH_STYLE", "S3_SESSION_TOKEN", "BACKUP_SOURCE", "BACKUP_NAME", "BACKUP_DIR",
  ];
  const SECRET = "fuzzSECRETvalue/With+Chars";

  it(
    "CLI: any environment is accepted or refused with a BackupError naming a variable or flag, never echoing the secret key",
    property(
      "CLI environment and flags",
      "accepted, or typed error naming the variable; secret never echoed",
      RUNS * 2,
      fc.property(
        fc.dictionary(fc.constantFrom(...VARIABLES), fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("", "0", "-5", "abc", "1e3", "true", "no", "http://x", "::"))),
        fc.constantFrom(["now"], ["list", "--json"], ["restore", "k"], ["prune", "--dry-run"], ["status"], ["run", "--retention", "x"], ["bogus"], ["now", "--interval", "-1"]),
        (env, argv) => {
          const full = { ...env, S3_SECRET_ACCESS_KEY: SECRET };
          try {
            parseConfig(argv, full);
          } catch (error) {
            expect(BackupError.is(error), String(error)).toBe(true);
            const text = `${String(error)} ${JSON.stringify(error)}`;
            expect(text).not.toContain(SECRET);
          }
        },
      ),
    ),
  );
});

describe("restore refuses bad keys and decompression bombs", () => {
  /** An adapter that records every key it is asked about, to prove refusals happen before any storage access. */
  function watched(inner: StorageAdapter) {
    const touched: string[] = [];
    return {
      touched,
      adapter: {
        name: inner.name,
        list: (p: string, o?: object) => inner.list(p, o),
        put: (k: string, b: Uint8Array | ReadableStream<Uint8Array>, o?: object) => (touched.push(k), inner.put(k, b, o)),
        get: (k: string, o?: object) => (touched.push(k), inner.get(k, o)),
        delete: (k: readonly string[], o?: object) => (touched.push(...k), inner.delete(k, o)),
      } satisfies StorageAdapter,
    };
  }

  it("restore and verify of keys outside the prefix, of another source, or with `..` are refused before touching storage", async () => {
    const { adapter, touched } = watched(memoryAdapter());
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array([1, 2, 3]), { name: "queue" }) });
    const ts = timestampToKeyPart(new Date());
    const bad = [
      `other/queue-${ts}-abcdefgh.db.gz`,
      `backups/queue-archive-${ts}-abcdefgh.db.gz`,
      `backups/../etc/queue-${ts}-abcdefgh.db.gz`,
      `backups/queue-${ts}-abcdefgh.db.gz/../../../etc/passwd`,
      `../backups/queue-${ts}-abcdefgh.db.gz`,
      `/backups/queue-${ts}-abcdefgh.db.gz`,
      `backups/queue-${ts}-../x.db.gz`,
      `backups/queue-${ts}-abcdefgh.db.gz.meta.json`,
      "",
    ];
    for (const key of bad) {
      for (const call of [() => b.restore(key, { to: bytesTarget() }), () => b.verify(key)]) {
        const error = await call().then(() => undefined, (e: unknown) => e);
        expect(BackupError.is(error, "INVALID_KEY"), `${key}: ${String(error)}`).toBe(true);
      }
    }
    expect(touched).toEqual([]);
    log.record({ kind: "bad-input", scenario: "restore/verify of foreign, `..` and metadata keys", expected: "INVALID_KEY before any storage access", observed: `${bad.length * 2} calls refused, 0 storage accesses`, faults: bad.length * 2, bytesLost: 0 });
  });

  const MiB = 1024 * 1024;
  const bomb = gzipSync(new Uint8Array(64 * MiB)); // 64 MiB of zeros in ~64 KiB

  it("a bomb whose metadata states a small size stops at that size + 1 chunk, with CORRUPT_DATA, target untouched", async () => {
    const adapter = memoryAdapter();
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array(10), { name: "queue" }) });
    const key = dataKey("backups/", "queue", new Date(), "bombbomb", true);
    await adapter.put(key, bomb);
    const small = new Uint8Array(1000);
    await adapter.put(`${key}.meta.json`, encodeMeta({ timestamp: new Date().toISOString(), version: "t", size: 1000, compressedSize: bomb.byteLength, checksum: sha256(small), compressed: true }));
    let written = 0;
    const target = bytesTarget();
    const counting = { description: "count", begin: async (o: Parameters<typeof target.begin>[0]) => {
      const s = await target.begin(o);
      return { ...s, write: (c: Uint8Array) => { written += c.byteLength; return s.write(c); } };
    } };
    const error = await b.restore(key, { to: counting }).then(() => undefined, (e: unknown) => e);
    expect(BackupError.is(error, "CORRUPT_DATA"), String(error)).toBe(true);
    expect(target.bytes).toBeUndefined();
    expect(written).toBeLessThanOrEqual(1000);
    expect(BackupError.is(await b.verify(key).catch((e: unknown) => e), "CORRUPT_DATA")).toBe(true);
    log.record({ kind: "bad-input", scenario: "decompression bomb (64 MiB) with metadata saying 1000 bytes", expected: "CORRUPT_DATA, target untouched", observed: `CORRUPT_DATA after ${written} bytes staged; target untouched`, faults: 1, bytesLost: 0 });
  });

  it("a bomb without metadata (bunqueue's oldest shape) is refused above maxRestoreBytes, even with allowUnverified", async () => {
    const adapter = memoryAdapter();
    const key = `backups/bunqueue-${timestampToKeyPart(new Date())}.db`;
    await adapter.put(key, bomb);
    const capped = createBackupper({ adapter, source: bytesSource(new Uint8Array(10), { name: "bunqueue" }), maxRestoreBytes: MiB });
    const target = bytesTarget();
    expect(BackupError.is(await capped.restore(key, { to: target }).catch((e: unknown) => e), "UNVERIFIED")).toBe(true);
    const error = await capped.restore(key, { to: target, allowUnverified: true }).then(() => undefined, (e: unknown) => e);
    expect(BackupError.is(error, "CORRUPT_DATA"), String(error)).toBe(true);
    expect(String(error)).toContain("maxRestoreBytes");
    expect(target.bytes).toBeUndefined();
    log.record({ kind: "bad-input", scenario: "decompression bomb without metadata, maxRestoreBytes 1 MiB", expected: "UNVERIFIED without opt-in; CORRUPT_DATA above the cap", observed: "UNVERIFIED, then CORRUPT_DATA naming maxRestoreBytes; target untouched", faults: 1, bytesLost: 0 });
  });
});
