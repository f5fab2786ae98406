import { describe, expect, it } from "vitest";
import { keepLast, normalizeRetention, planRetention, type RetentionCandidate } from "../../src/retention/policy.js";
import { ConfigError } from "../../src/errors.js";

const hours = (h: number) => new Date(Date.UTC(2026, 0, 1) + h * 3_600_000);
function series(n: number, stepHours: number, verified = true): RetentionCandidate[] {
  return Array.from({ length: n }, (_, i) => ({ key: `k${String(i).padStart(4, "0")}`, timestamp: hours(i * stepHours), verified }));
}
const kept = (d: ReturnType<typeof planRetention>) => d.filter((x) => x.keep).map((x) => x.key);

describe("retention planning", () => {
  it("keeps the newest N by key timestamp", () => {
    const d = planRetention(series(10, 1), keepLast(3));
    expect(kept(d)).toEqual(["k0009", "k0008", "k0007"]);
    expect(d.filter((x) => !x.keep).every((x) => x.reasons[0] === "outside policy")).toBe(true);
  });

  it("orders equal timestamps by key, deterministically", () => {
    const t = hours(0);
    const input = ["b", "a", "c"].map((key) => ({ key, timestamp: t, verified: true }));
    expect(kept(planRetention(input, keepLast(2)))).toEqual(["c", "b"]);
    expect(kept(planRetention([...input].reverse(), keepLast(2)))).toEqual(["c", "b"]);
  });

  it("never deletes the newest verified backup, even when newer ones are unverified", () => {
    const input = [...series(5, 1, true), ...series(3, 1, false).map((b, i) => ({ ...b, key: `u${i}`, timestamp: hours(100 + i) }))];
    const d = planRetention(input, keepLast(1));
    expect(kept(d)).toContain("k0004");
    expect(d.find((x) => x.key === "k0004")!.reasons).toEqual(["newest verified"]);
  });

  it("never deletes a protected key", () => {
    const d = planRetention(series(5, 1), keepLast(1), new Set(["k0000"]));
    expect(kept(d)).toEqual(["k0004", "k0000"]);
  });

  it("applies daily/weekly/monthly buckets like restic forget", () => {
    const input = series(24 * 90, 1); // hourly backups for 90 days
    const d = planRetention(input, { daily: 7, weekly: 4, monthly: 3 });
    const keptKeys = kept(d);
    const days = new Set(keptKeys.map((k) => input.find((b) => b.key === k)!.timestamp.toISOString().slice(0, 10)));
    // 7 daily + up to 4 weekly + 3 monthly, overlapping: the newest of each bucket.
    expect(keptKeys.length).toBeGreaterThanOrEqual(7);
    expect(keptKeys.length).toBeLessThanOrEqual(14);
    expect(days.size).toBe(keptKeys.length);
    for (const k of keptKeys) {
      const t = input.find((b) => b.key === k)!.timestamp;
      const reasons = d.find((x) => x.key === k)!.reasons;
      if (reasons.includes("daily")) expect(t.getUTCHours()).toBe(23);
    }
  });

  it("keeps everything within a duration of the newest", () => {
    const d = planRetention(series(48, 1), { within: 6 * 3_600_000 });
    expect(kept(d)).toHaveLength(7);
  });

  it("validates policies, naming the option", () => {
    expect(normalizeRetention(7)).toEqual({ last: 7 });
    expect(() => normalizeRetention(0)).toThrow(ConfigError);
    expect(() => normalizeRetention(1.5)).toThrow(/retention/);
    expect(() => normalizeRetention(Number.NaN)).toThrow(ConfigError);
    expect(() => normalizeRetention({ dayly: 3 })).toThrow(/retention\.dayly/);
    expect(() => normalizeRetention({ daily: -1 })).toThrow(/retention\.daily/);
    expect(() => normalizeRetention({ daily: 0 })).toThrow(/keeps nothing/);
    expect(() => normalizeRetention("7")).toThrow(ConfigError);
  });
});
