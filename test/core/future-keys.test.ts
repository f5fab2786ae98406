/**
 * Keys dated in the future (a host with a wrong clock, or anyone who can write the bucket) take
 * no part in retention or freshness: the planner keeps them without counting them, `list()` flags
 * them, and `status()` measures freshness by the newest verified backup that is not one of them.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { bytesSource, createBackupper } from "../../src/index.js";
import {
  FUTURE_TOLERANCE_MS,
  isFutureDated,
  keepLast,
  planRetention,
  type RetentionCandidate,
  type RetentionPolicy,
} from "../../src/retention/policy.js";
import { DAY, in2099, plantBackup, plantJunk } from "../helpers/planted.js";
import { dataKey, randomId } from "../../src/format/keys.js";

const hours = (h: number) => new Date(Date.UTC(2026, 0, 1) + h * 3_600_000);
const real = (n: number): RetentionCandidate[] =>
  Array.from({ length: n }, (_, i) => ({ key: `r${String(i).padStart(3, "0")}`, timestamp: hours(i), verified: true, futureDated: false }));
const future = (n: number): RetentionCandidate[] =>
  in2099(n).map((timestamp, i) => ({ key: `f${i}`, timestamp, verified: true, futureDated: true }));
const kept = (d: ReturnType<typeof planRetention>) => d.filter((x) => x.keep).map((x) => x.key);

describe("isFutureDated", () => {
  it("allows clock skew up to the tolerance, and no more", () => {
    const now = Date.UTC(2026, 5, 1);
    expect(isFutureDated(new Date(now + FUTURE_TOLERANCE_MS), now)).toBe(false);
    expect(isFutureDated(new Date(now + FUTURE_TOLERANCE_MS + 1), now)).toBe(true);
    expect(isFutureDated(new Date(now - 365 * DAY), now)).toBe(false);
  });
});

describe("retention with future-dated keys", () => {
  it("seven keys dated 2099 neither fill the keep-last slots nor get deleted", () => {
    const d = planRetention([...future(7), ...real(10)], keepLast(7));
    expect(kept(d)).toEqual(["f6", "f5", "f4", "f3", "f2", "f1", "f0", "r009", "r008", "r007", "r006", "r005", "r004", "r003"]);
    for (const f of d.filter((x) => x.key.startsWith("f"))) expect(f.reasons).toEqual(["future-dated"]);
    expect(d.find((x) => x.key === "r009")!.reasons).toEqual(["last", "newest verified"]);
    expect(d.filter((x) => !x.keep).map((x) => x.key)).toEqual(["r002", "r001", "r000"]);
  });

  it("calendar buckets and `within` are measured from the newest real backup", () => {
    const d = planRetention([...future(3), ...real(48)], { hourly: 2, within: 3 * 3_600_000 });
    expect(kept(d)).toEqual(["f2", "f1", "f0", "r047", "r046", "r045", "r044"]);
  });

  it("all backups future-dated: every one is kept", () => {
    const d = planRetention(future(4), keepLast(1));
    expect(d.every((x) => x.keep && x.reasons[0] === "future-dated")).toBe(true);
  });

  const candidates = fc.uniqueArray(
    fc.record({
      key: fc.stringMatching(/^k[0-9a-z]{1,6}$/),
      timestamp: fc.date({ min: new Date(Date.UTC(2020, 0, 1)), max: new Date(Date.UTC(2100, 0, 1)), noInvalidDate: true }),
      verified: fc.boolean(),
      futureDated: fc.boolean(),
    }),
    { selector: (c) => c.key, maxLength: 60 },
  );
  const policy: fc.Arbitrary<RetentionPolicy> = fc
    .record({ last: fc.nat(10), hourly: fc.nat(6), daily: fc.nat(10), weekly: fc.nat(6), monthly: fc.nat(6), yearly: fc.nat(3), within: fc.nat(90 * DAY) }, { requiredKeys: [] })
    .filter((p) => Object.values(p).some((v) => (v ?? 0) > 0));

  it("property: the other keys are decided exactly as if the future-dated ones were not there, and those are all kept", () => {
    fc.assert(
      fc.property(candidates, policy, fc.integer({ min: 0 }), (list, p, protectIndex) => {
        const protect = new Set(list.length ? [list[protectIndex % list.length]!.key] : []);
        const decisions = new Map(planRetention(list, p, protect).map((d) => [d.key, d]));
        const withoutFuture = planRetention(list.filter((c) => !c.futureDated), p, protect);
        for (const d of withoutFuture) expect(decisions.get(d.key)).toEqual(d);
        for (const c of list.filter((c) => c.futureDated)) {
          const d = decisions.get(c.key)!;
          expect(d.keep).toBe(true);
          expect(d.reasons[0]).toBe("future-dated");
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("list() and status() with future-dated and metadata-less keys", () => {
  it("list flags keys beyond the tolerance; status counts them and measures freshness by the newest verified real backup", async () => {
    const adapter = memoryAdapter();
    const now = Date.now();
    const old = await plantBackup(adapter, "q", new Date(now - 3 * DAY));
    const skewed = await plantBackup(adapter, "q", new Date(now + 60_000)); // within the tolerance: an ordinary backup
    const ahead = await plantBackup(adapter, "q", new Date(now + 10 * 60_000));
    const far = await plantBackup(adapter, "q", in2099(1)[0]!);
    const junk = await plantJunk(adapter, "q", new Date(now - 1000));
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array([1]), { name: "q" }) });
    expect(b.status()).toMatchObject({ backups: undefined, futureDated: undefined, newestVerified: undefined });

    const listed = await b.list();
    const flags = Object.fromEntries(listed.map((x) => [x.key, x.futureDated]));
    expect(flags).toEqual({ [far]: true, [ahead]: true, [skewed]: false, [junk]: false, [old]: false });
    expect(b.status()).toMatchObject({ backups: 5, futureDated: 2, newestVerified: { key: skewed } });

    await adapter.delete([skewed, `${skewed}.meta.json`]);
    await b.list();
    // The junk object is newer but has no metadata: the 3-day-old backup is the newest that counts.
    expect(b.status().newestVerified).toEqual({ key: old, timestamp: new Date(now - 3 * DAY) });
  });

  it("status().newestVerified is undefined when only future-dated and metadata-less keys exist", async () => {
    const adapter = memoryAdapter();
    await plantBackup(adapter, "q", in2099(1)[0]!);
    await plantJunk(adapter, "q", new Date());
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array([1]), { name: "q" }) });
    await b.list();
    expect(b.status()).toMatchObject({ backups: 2, futureDated: 1, newestVerified: undefined });
  });
});

describe("prune with future-dated leftovers", () => {
  it("removes an interrupted backup dated in the future once its modification time is past the grace period", async () => {
    const adapter = memoryAdapter();
    // Data without metadata, with our own 8-character id: an interrupted backup, not a bunqueue one.
    const key = dataKey("backups/", "q", in2099(1)[0]!, randomId(), true);
    await adapter.put(key, new Uint8Array([1, 2, 3]));
    await new Promise((r) => setTimeout(r, 5));
    const b = createBackupper({ adapter, source: bytesSource(new Uint8Array([1]), { name: "q" }), incompleteGrace: 1 });
    const report = await b.prune();
    expect(report.incomplete).toEqual([key]);
    expect(await adapter.get(key)).toBeNull();
  });
});
