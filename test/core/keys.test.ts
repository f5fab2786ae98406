import { describe, expect, it } from "vitest";
import { checkName, dataKey, isLegacyId, parseDataKey, timestampToKeyPart } from "../../src/format/keys.js";
import { ConfigError } from "../../src/errors.js";

const at = new Date("2026-11-26T12:00:00.000Z");

describe("key scheme", () => {
  it("formats keys as docs/FORMAT.md §1 says", () => {
    expect(dataKey("backups/", "queue", at, "abcd1234", true)).toBe("backups/queue-2026-11-26T12-00-00-000Z-abcd1234.db.gz");
    expect(dataKey("", "queue", at, "abcd1234", false)).toBe("queue-2026-11-26T12-00-00-000Z-abcd1234.db");
    expect(timestampToKeyPart(at)).toBe("2026-11-26T12-00-00-000Z");
  });

  it("parses its own keys back", () => {
    const key = dataKey("backups/", "queue", at, "abcd1234", true);
    expect(parseDataKey("backups/", "queue", key)).toEqual({ timestamp: at, id: "abcd1234", suffix: ".gz" });
  });

  it("parses bunqueue keys, with and without a uuid", () => {
    const uuid = "0b9f3c1e-4a4e-4f8e-9a61-5d8f1f6a2c3b";
    const p = parseDataKey("backups/", "bunqueue", `backups/bunqueue-2026-11-26T12-00-00-000Z-${uuid}.db`);
    expect(p).toEqual({ timestamp: at, id: uuid, suffix: "" });
    expect(isLegacyId(p!.id)).toBe(true);
    expect(parseDataKey("backups/", "bunqueue", "backups/bunqueue-2026-11-26T12-00-00-000Z.db")?.id).toBeUndefined();
    expect(isLegacyId("abcd1234")).toBe(false);
  });

  it("never mixes sources whose names share a prefix", () => {
    const other = dataKey("backups/", "queue-archive", at, "abcd1234", true);
    expect(parseDataKey("backups/", "queue", other)).toBeUndefined();
    expect(parseDataKey("backups/", "queue-archive", other)).toBeDefined();
  });

  it("rejects garbage, impossible dates and other prefixes", () => {
    for (const key of [
      "backups/queue-2026-13-40T12-00-00-000Z-abc.db.gz",
      "backups/queue-2026-11-26T12-00-00-000Z-abc.db.gz.meta.json",
      "backups/queue-2026-11-26T12-00-00Z-abc.db.gz",
      "backups/queue-latest.db.gz",
      "other/queue-2026-11-26T12-00-00-000Z-abc.db.gz",
      "backups/queue-2026-11-26T12-00-00-000Z-abc.tar",
      "backups/queue-2026-11-26T12-00-00-000Z-../x.db",
    ]) {
      expect(parseDataKey("backups/", "queue", key), key).toBeUndefined();
    }
  });

  it("validates names, naming the option", () => {
    expect(checkName("queue.db_1-x")).toBe("queue.db_1-x");
    for (const bad of ["", "-x", "a/b", "a b", "ü", "x".repeat(129), "q-2026-11-26T12-00-00-000Z", 42]) {
      expect(() => checkName(bad, "name")).toThrow(ConfigError);
    }
    expect(() => checkName("a/b", "name")).toThrow(/^name: /);
  });
});
