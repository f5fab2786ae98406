/** The bin's lease and alert settings: `--lease`, BACKUP_LEASE, BACKUP_LEASE_TTL, BACKUP_NOTIFY_URL / _ON / _STYLE. */
import { describe, expect, it } from "vitest";
import { LeaseHeldError } from "../../src/errors.js";
import { backupperSettings, type Env } from "../../src/cli/config.js";
import { config, configError } from "../helpers/cli-config.js";
import { EXIT_CODES, exitCodeOf } from "../../src/cli/exit-codes.js";
import { helpText } from "../../src/cli/help.js";

const ENV: Env = { BACKUP_DIR: "/var/backups", BACKUP_SOURCE: "/data/queue.db" };
const TOKEN = "5f0c8a52-1111-4222-8333-444455556666";

describe("lease settings", () => {
  it("is off by default, on with --lease or BACKUP_LEASE, with BACKUP_LEASE_TTL as a duration", () => {
    expect(config(["now"], ENV).lease).toBeUndefined();
    expect(config(["now", "--lease"], ENV).lease).toEqual({});
    expect(config(["run", "--lease"], ENV).lease).toEqual({});
    expect(config(["now"], { ...ENV, BACKUP_LEASE: "1" }).lease).toEqual({});
    expect(config(["now"], { ...ENV, BACKUP_LEASE: "0" }).lease).toBeUndefined();
    expect(config(["now"], { ...ENV, BACKUP_LEASE: "yes", BACKUP_LEASE_TTL: "5m" }).lease).toEqual({ ttl: 300_000 });
    expect(backupperSettings(config(["now"], { ...ENV, BACKUP_LEASE: "1", BACKUP_LEASE_TTL: "90s" })).lease).toEqual({ ttl: 90_000 });
  });

  it("names the variable that is wrong", () => {
    expect(configError(["now"], { ...ENV, BACKUP_LEASE: "perhaps" }).option).toBe("BACKUP_LEASE");
    expect(configError(["now"], { ...ENV, BACKUP_LEASE: "1", BACKUP_LEASE_TTL: "soon" }).option).toBe("BACKUP_LEASE_TTL");
    expect(configError(["now"], { ...ENV, BACKUP_LEASE: "1", BACKUP_LEASE_TTL: "10" }).message).toMatch(/^BACKUP_LEASE_TTL: .*from 1000/);
    expect(configError(["now"], { ...ENV, BACKUP_LEASE_TTL: "2m" }).message).toMatch(/^BACKUP_LEASE_TTL: .*BACKUP_LEASE=1 or pass --lease/);
  });

  it("--lease is a flag of now and run only", () => {
    expect(() => config(["list", "--lease"], ENV)).toThrow(/list does not take --lease/);
  });

  it("a held lease exits 7, like a backup already running", () => {
    expect(exitCodeOf(new LeaseHeldError("backups/q.lease", "held", { lost: false }))).toBe(EXIT_CODES.IN_PROGRESS);
    expect(EXIT_CODES.IN_PROGRESS).toBe(7);
    expect(helpText("now")).toMatch(/--lease/);
    expect(helpText("now")).toMatch(/BACKUP_LEASE_TTL/);
  });
});

describe("notify settings", () => {
  it("reads the URL, the triggers (commas or spaces) and the style", () => {
    expect(config(["now"], ENV).notify).toBeUndefined();
    const url = `https://hc-ping.com/${TOKEN}`;
    expect(config(["now"], { ...ENV, BACKUP_NOTIFY_URL: url }).notify).toEqual({ url });
    expect(config(["now"], { ...ENV, BACKUP_NOTIFY_URL: url, BACKUP_NOTIFY_ON: "failure, stale drill-failure" }).notify).toEqual({ url, on: ["failure", "stale", "drill-failure"] });
    expect(config(["now"], { ...ENV, BACKUP_NOTIFY_URL: url, BACKUP_NOTIFY_STYLE: "webhook" }).notify).toEqual({ url, style: "webhook" });
  });

  it("names the variable that is wrong, and never shows the URL", () => {
    const bad = configError(["now"], { ...ENV, BACKUP_NOTIFY_URL: `hc-ping.com/${TOKEN}` });
    expect(bad.option).toBe("BACKUP_NOTIFY_URL");
    expect(bad.message).not.toContain(TOKEN);
    expect(configError(["now"], { ...ENV, BACKUP_NOTIFY_URL: "https://x/", BACKUP_NOTIFY_ON: "failure,sometimes" }).option).toBe("BACKUP_NOTIFY_ON");
    expect(configError(["now"], { ...ENV, BACKUP_NOTIFY_URL: "https://x/", BACKUP_NOTIFY_ON: " , " }).option).toBe("BACKUP_NOTIFY_ON");
    expect(configError(["now"], { ...ENV, BACKUP_NOTIFY_URL: "https://x/", BACKUP_NOTIFY_STYLE: "loud" }).option).toBe("BACKUP_NOTIFY_STYLE");
    expect(configError(["now"], { ...ENV, BACKUP_NOTIFY_ON: "failure" }).message).toMatch(/^BACKUP_NOTIFY_ON: needs BACKUP_NOTIFY_URL/);
  });
});
