/**
 * The bin's configuration for drills and metrics, as a pure function of (argv, env): which flags
 * each command takes, the .prom rule of --textfile, and variables named in their errors.
 */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/args.js";
import type { Env } from "../../src/cli/config.js";
import { config as configIn, configError, failure as failureIn } from "../helpers/cli-config.js";

const DIR: Env = { BACKUP_DIR: "/var/backups", BACKUP_NAME: "queue" };

const config = (argv: string[], env: Env = DIR) => configIn(argv, env);
const failure = (argv: string[], env: Env = DIR) => failureIn(argv, env);

describe("drill's command line", () => {
  it("takes a key, --latest or --random, at most one of them; none means the newest", () => {
    expect(config(["drill"])).toMatchObject({ command: "drill", key: undefined, pick: undefined });
    expect(config(["drill", "backups/queue-x.db.gz"])).toMatchObject({ key: "backups/queue-x.db.gz", pick: undefined });
    expect(config(["drill", "--latest"]).pick).toBe("latest");
    expect(config(["drill", "--random", "--json"])).toMatchObject({ pick: "random", json: true });
    for (const argv of [["drill", "k", "--random"], ["drill", "--latest", "--random"]]) {
      const error = failure(argv);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toMatch(/^drill takes one of a key, --latest or --random/);
    }
    expect(failure(["drill", "a", "b"]).message).toBe('drill: unexpected argument "b"');
    expect(failure(["verify", "--random"]).message).toBe("verify does not take --random");
  });

  it("BACKUP_DRILL_QUERY is read as is; BACKUP_DRILL_INTERVAL and --drill-interval only by run, named when invalid", () => {
    expect(config(["drill"], { ...DIR, BACKUP_DRILL_QUERY: "SELECT count(*) FROM jobs" }).drillQuery).toBe("SELECT count(*) FROM jobs");
    const run = { ...DIR, BACKUP_SOURCE: "/data/queue.db" };
    expect(config(["run", "--drill-interval", "7d"], run).drillInterval).toBe(7 * 86_400_000);
    expect(config(["run"], { ...run, BACKUP_DRILL_INTERVAL: "12h" }).drillInterval).toBe(12 * 3_600_000);
    expect(config(["run"], run).drillInterval).toBeUndefined();
    expect(config(["status"], { ...DIR, BACKUP_DRILL_INTERVAL: "12h" }).drillInterval).toBeUndefined();
    const bad = configError(["run"], { ...run, BACKUP_DRILL_INTERVAL: "weekly" });
    expect(bad.message).toMatch(/^BACKUP_DRILL_INTERVAL: must be milliseconds or a duration/);
    expect(failure(["run", "--drill-interval", "0"], run).message).toMatch(/^--drill-interval: must be a whole number of milliseconds from 1/);
  });
});

describe("metrics on the command line", () => {
  it("--textfile / BACKUP_TEXTFILE on now, drill, status and run; the variable is ignored by the others", () => {
    for (const command of ["now", "drill", "status", "run"]) {
      const env = { ...DIR, BACKUP_SOURCE: "/data/queue.db", BACKUP_TEXTFILE: "/metrics/backupper.prom" };
      expect(config([command], env).textfile).toBe("/metrics/backupper.prom");
      expect(config([command, "--textfile", "/m/x.prom"], env).textfile).toBe("/m/x.prom");
    }
    expect(config(["list"], { ...DIR, BACKUP_TEXTFILE: "/metrics/backupper.prom" }).textfile).toBeUndefined();
    expect(failure(["list", "--textfile", "/m/x.prom"]).message).toBe("list does not take --textfile");
  });

  it("a textfile not ending in .prom is refused, naming where it came from", () => {
    expect(failure(["status", "--textfile", "/m/metrics.txt"]).message).toMatch(/^--textfile: must name a file ending in \.prom/);
    expect(failure(["status"], { ...DIR, BACKUP_TEXTFILE: "/m/backupper" }).message).toMatch(/^BACKUP_TEXTFILE: must name a file ending in \.prom/);
  });

  it("status --prometheus, not with --json", () => {
    expect(config(["status", "--prometheus"]).prometheus).toBe(true);
    expect(config(["status"]).prometheus).toBe(false);
    expect(failure(["status", "--prometheus", "--json"]).message).toBe("status takes --prometheus or --json, not both");
  });
});
