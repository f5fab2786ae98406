import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canWriteZstd } from "../../src/codec/index.js";
import { BackupError, ConfigError } from "../../src/errors.js";
import { parseCommandLine, UsageError } from "../../src/cli/args.js";
import { backupperSettings, parseConfig, type CliConfig, type Env } from "../../src/cli/config.js";
import { config, configError } from "../helpers/cli-config.js";
import { EXIT_CODES, exitCodeOf } from "../../src/cli/exit-codes.js";
import { resolveBackupperSettings } from "../../src/options.js";
import { maskKeyId } from "../../src/cli/commands/status.js";
import { redactor } from "../../src/cli/output.js";
import { formatAge, formatBytes, formatDuration, parseDuration } from "../../src/cli/units.js";

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

const S3_ENV: Env = {
  S3_BACKUP_ENABLED: "1",
  S3_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
  S3_SECRET_ACCESS_KEY: SECRET,
  S3_BUCKET: "my-backups",
  S3_REGION: "eu-west-1",
};

const s3Options = (c: CliConfig) => {
  if (c.destination.kind !== "s3") throw new Error("expected an S3 destination");
  return c.destination.options;
};

describe("environment variables", () => {
  it("reads the seed's variables with their defaults", () => {
    const c = config(["now", "--source", "/data/queue.db"], S3_ENV);
    expect(c.destination).toEqual({
      kind: "s3",
      credentialsFrom: "S3_*",
      options: { bucket: "my-backups", region: "eu-west-1", accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: SECRET },
    });
    expect(c).toMatchObject({ name: "queue", source: "/data/queue.db", prefix: "backups/", retention: 7, interval: 21_600_000, initialDelay: 60_000, disabled: undefined });
  });

  it("reads every variable that is set", () => {
    const c = config(["list"], {
      ...S3_ENV,
      S3_BACKUP_INTERVAL: "3600000",
      S3_BACKUP_RETENTION: "14",
      S3_BACKUP_PREFIX: "db/",
      S3_ENDPOINT: "http://minio:9000",
      S3_FORCE_PATH_STYLE: "false",
      S3_SESSION_TOKEN: "token",
      S3_RETRY_FOR: "2m30s",
      BACKUP_NAME: "jobs",
    });
    expect(c).toMatchObject({ name: "jobs", prefix: "db/", retention: 14, interval: 3_600_000, source: undefined });
    expect(s3Options(c)).toMatchObject({ endpoint: "http://minio:9000", forcePathStyle: false, sessionToken: "token", retryFor: 150_000 });
  });

  const bad: Array<[string, string]> = [
    ["S3_BACKUP_ENABLED", "maybe"],
    ["S3_BUCKET", "Not A Bucket!"],
    ["S3_REGION", "   "],
    ["S3_ENDPOINT", "ftp://example.com"],
    ["S3_ENDPOINT", "not a url"],
    ["S3_FORCE_PATH_STYLE", "perhaps"],
    ["S3_RETRY_FOR", "forever"],
    ["S3_RETRY_FOR", "-5m"],
    ["S3_RETRY_FOR", "30d"],
    ["S3_BACKUP_INTERVAL", "soon"],
    ["S3_BACKUP_INTERVAL", "-5"],
    ["S3_BACKUP_INTERVAL", "99999999999"],
    ["S3_BACKUP_RETENTION", "abc"],
    ["S3_BACKUP_RETENTION", "0"],
    ["S3_BACKUP_RETENTION", "2.5"],
    ["S3_BACKUP_PREFIX", "/absolute/"],
    ["S3_BACKUP_PREFIX", "a/../b/"],
    ["S3_SESSION_TOKEN", "  "],
    ["BACKUP_NAME", "two words"],
    ["BACKUP_NAME", "-leading-dash"],
    ["BACKUP_COMPRESSION_WORKERS", "two"],
    ["BACKUP_COMPRESSION_WORKERS", "0"],
    ["BACKUP_COMPRESSION_WORKERS", "65"],
    ["BACKUP_COMPRESSION", "lz4"],
    ["BACKUP_COMPRESSION_LEVEL", "fast"],
    ["BACKUP_COMPRESSION_LEVEL", "10"],
    ["BACKUP_COMPRESSION_LEVEL", "-1"],
    ["BACKUP_RETRY_FAILED", "sometimes"],
  ];
  it.each(bad)("%s=%j is an error naming it", (variable, value) => {
    const error = configError(["list"], { ...S3_ENV, BACKUP_NAME: "queue", [variable]: value });
    expect(error.option).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).not.toContain(SECRET);
  });

  it("retries failed scheduled backups unless BACKUP_RETRY_FAILED says no, and hands that to createBackupper", () => {
    expect(resolveBackupperSettings(backupperSettings(config(["run", "--source", "/data/queue.db"], S3_ENV)), "queue").retryFailed).toBe(true);
    expect(backupperSettings(config(["run", "--source", "/data/queue.db"], { ...S3_ENV, BACKUP_RETRY_FAILED: "0" })).retryFailed).toBe(false);
    expect(backupperSettings(config(["run", "--source", "/data/queue.db"], { ...S3_ENV, BACKUP_RETRY_FAILED: "yes" })).retryFailed).toBe(true);
  });

  it("reads compression workers from BACKUP_COMPRESSION_WORKERS, overridden by --compression-workers", () => {
    expect(config(["now", "--source", "/data/queue.db"], S3_ENV).compressionWorkers).toBe(1);
    const env = { ...S3_ENV, BACKUP_COMPRESSION_WORKERS: "2" };
    expect(config(["now", "--source", "/data/queue.db"], env).compressionWorkers).toBe(2);
    expect(config(["run", "--source", "/data/queue.db", "--compression-workers", "4"], env).compressionWorkers).toBe(4);
  });

  it("reads compression and its level from BACKUP_COMPRESSION(_LEVEL), overridden by the flags", () => {
    const now = (argv: string[], env: Env) => config(["now", "--source", "/data/queue.db", ...argv], env);
    expect(now([], S3_ENV)).toMatchObject({ compression: undefined, compressionLevel: undefined });
    const env = { ...S3_ENV, BACKUP_COMPRESSION: "none", BACKUP_COMPRESSION_LEVEL: "9" };
    expect(now([], env)).toMatchObject({ compression: "none", compressionLevel: 9 });
    expect(now(["--compression", "gzip", "--compression-level", "1"], env)).toMatchObject({ compression: "gzip", compressionLevel: 1 });
    // The level's range is the chosen compression's: 12 is a zstd level, not a gzip one.
    expect(configError(["now", "--source", "/data/queue.db", "--compression-level", "12"], S3_ENV).option).toBe("--compression-level");
    expect(configError(["now", "--source", "/data/queue.db", "--compression", "zstd", "--compression-level", "20"], S3_ENV).option).toMatch(/^--compression(-level)?$/);
  });

  it.runIf(!canWriteZstd("auto"))("--compression zstd where this runtime cannot write it is an error naming the flag or variable", () => {
    expect(configError(["now", "--source", "/data/queue.db", "--compression", "zstd"], S3_ENV).option).toBe("--compression");
    const error = configError(["now", "--source", "/data/queue.db"], { ...S3_ENV, BACKUP_COMPRESSION: "zstd" });
    expect(error.message).toMatch(/^BACKUP_COMPRESSION: "zstd" is written only by the native codec/);
  });

  it("says what a retention must be, as the seed's users write it", () => {
    expect(configError(["list"], { ...S3_ENV, BACKUP_NAME: "q", S3_BACKUP_RETENTION: "abc" }).message).toBe(
      'S3_BACKUP_RETENTION: must be a whole number >= 1, got "abc"',
    );
  });

  it.each(["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"])("a missing %s is an error naming it", (variable) => {
    const env = { ...S3_ENV, BACKUP_NAME: "q", [variable]: undefined };
    expect(configError(["list"], env).option).toBe(variable);
  });

  it("treats an empty variable as unset", () => {
    const c = config(["list"], { ...S3_ENV, BACKUP_NAME: "q", S3_BACKUP_RETENTION: "", S3_BACKUP_PREFIX: "" });
    expect(c).toMatchObject({ retention: 7, prefix: "backups/" });
  });

  it("needs a name or a source", () => {
    expect(configError(["list"], S3_ENV).option).toBe("BACKUP_NAME");
  });

  it("needs a source to back up, and a source or --to to restore", () => {
    expect(configError(["now"], { ...S3_ENV, BACKUP_NAME: "q" }).option).toBe("BACKUP_SOURCE");
    expect(configError(["run"], { ...S3_ENV, BACKUP_NAME: "q" }).option).toBe("BACKUP_SOURCE");
    expect(configError(["restore", "k"], { ...S3_ENV, BACKUP_NAME: "q" }).option).toBe("BACKUP_SOURCE");
    expect(config(["restore", "k", "--to", "/tmp/x.db"], { ...S3_ENV, BACKUP_NAME: "q" }).to).toBe("/tmp/x.db");
  });

  it("refuses BACKUP_DIR and S3_BUCKET together, unless --dir chooses", () => {
    const env = { ...S3_ENV, BACKUP_NAME: "q", BACKUP_DIR: "/var/backups" };
    expect(configError(["list"], env).option).toBe("BACKUP_DIR");
    expect(config(["list", "--dir", "/elsewhere"], env).destination).toEqual({ kind: "dir", root: "/elsewhere" });
  });
});

describe("flags override variables", () => {
  it("for every shared setting", () => {
    const env = { ...S3_ENV, BACKUP_SOURCE: "/a/env.db", BACKUP_NAME: "envname", S3_BACKUP_PREFIX: "env/", S3_BACKUP_RETENTION: "5", S3_BACKUP_INTERVAL: "1000" };
    const c = config(
      ["now", "--source", "/b/flag.db", "--name", "flagname", "--prefix", "flag/", "--retention", "3", "--interval", "2h"],
      env,
    );
    expect(c).toMatchObject({ source: "/b/flag.db", name: "flagname", prefix: "flag/", retention: 3, interval: 7_200_000 });
  });

  it("and a bad flag value names the flag", () => {
    expect(configError(["list", "--retention", "x"], { ...S3_ENV, BACKUP_NAME: "q", S3_BACKUP_RETENTION: "4" }).option).toBe("--retention");
    expect(configError(["list", "--name", "a b"], { ...S3_ENV, BACKUP_NAME: "q" }).option).toBe("--name");
    expect(configError(["status", "--max-age", "old"], { ...S3_ENV, BACKUP_NAME: "q" }).option).toBe("--max-age");
    expect(configError(["run", "--source", "x.db", "--initial-delay", "later"], S3_ENV).option).toBe("--initial-delay");
  });

  it("derives the name from the flag's source, not the variable's", () => {
    expect(config(["list", "--source", "/data/jobs.sqlite"], { ...S3_ENV, BACKUP_SOURCE: "/data/queue.db" }).name).toBe("jobs");
  });
});

describe("AWS_* fallbacks", () => {
  const AWS_ENV: Env = {
    BACKUP_NAME: "q",
    S3_BUCKET: "bucket",
    AWS_ACCESS_KEY_ID: "AKIAAWSFALLBACK00001",
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_SESSION_TOKEN: "aws-token",
    AWS_REGION: "ap-south-1",
    AWS_DEFAULT_REGION: "us-west-2",
    AWS_ENDPOINT_URL: "https://generic.example.com",
    AWS_ENDPOINT_URL_S3: "https://s3.example.com",
  };

  it("takes credentials, token, region and the S3-specific endpoint", () => {
    const c = config(["list"], AWS_ENV);
    expect(c.destination).toMatchObject({ credentialsFrom: "AWS_*" });
    expect(s3Options(c)).toEqual({
      bucket: "bucket",
      region: "ap-south-1",
      accessKeyId: "AKIAAWSFALLBACK00001",
      secretAccessKey: SECRET,
      sessionToken: "aws-token",
      endpoint: "https://s3.example.com",
      forcePathStyle: true,
    });
  });

  it("falls back to AWS_DEFAULT_REGION and AWS_ENDPOINT_URL", () => {
    const c = config(["list"], { ...AWS_ENV, AWS_REGION: undefined, AWS_ENDPOINT_URL_S3: undefined });
    expect(s3Options(c)).toMatchObject({ region: "us-west-2", endpoint: "https://generic.example.com" });
  });

  it("prefers the S3_* variables, and never mixes the two families' credentials", () => {
    const c = config(["list"], { ...AWS_ENV, S3_ACCESS_KEY_ID: "S3KEY000000000000001", S3_SECRET_ACCESS_KEY: "s3-secret", S3_REGION: "eu-north-1", S3_ENDPOINT: "https://s3env.example.com" });
    expect(s3Options(c)).toMatchObject({ accessKeyId: "S3KEY000000000000001", secretAccessKey: "s3-secret", region: "eu-north-1", endpoint: "https://s3env.example.com" });
    expect(s3Options(c).sessionToken).toBeUndefined();
    expect(configError(["list"], { ...AWS_ENV, S3_ACCESS_KEY_ID: "S3KEY000000000000001" }).option).toBe("S3_SECRET_ACCESS_KEY");
  });

  it("names the AWS variable that is wrong", () => {
    expect(configError(["list"], { ...AWS_ENV, AWS_ENDPOINT_URL_S3: "nope" }).option).toBe("AWS_ENDPOINT_URL_S3");
    expect(configError(["list"], { ...AWS_ENV, AWS_SECRET_ACCESS_KEY: undefined }).option).toBe("AWS_SECRET_ACCESS_KEY");
  });

  it("defaults the region to us-east-1, and to auto on R2", () => {
    const env = { ...AWS_ENV, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined, AWS_ENDPOINT_URL_S3: undefined, AWS_ENDPOINT_URL: undefined };
    expect(s3Options(config(["list"], env))).toMatchObject({ region: "us-east-1" });
    expect(s3Options(config(["list"], env)).forcePathStyle).toBeUndefined();
    expect(s3Options(config(["list"], { ...env, S3_ENDPOINT: "https://acc.r2.cloudflarestorage.com" }))).toMatchObject({ region: "auto" });
  });
});

describe("--dir", () => {
  it("needs no account, and ignores the S3 connection variables", () => {
    const c = config(["now", "--dir", "/var/backups", "--source", "/data/queue.db"], { S3_ENDPOINT: "not a url" });
    expect(c).toMatchObject({ destination: { kind: "dir", root: "/var/backups" }, disabled: undefined, name: "queue" });
    expect(config(["list"], { BACKUP_DIR: "/var/backups", BACKUP_NAME: "q" }).destination).toEqual({ kind: "dir", root: "/var/backups" });
  });

  it("still validates the shared variables", () => {
    expect(configError(["list", "--dir", "/d", "--name", "q"], { S3_BACKUP_RETENTION: "many" }).option).toBe("S3_BACKUP_RETENTION");
  });
});

describe("S3_BACKUP_ENABLED", () => {
  it("must be on to back up to S3", () => {
    expect(config(["list"], { ...S3_ENV, BACKUP_NAME: "q", S3_BACKUP_ENABLED: undefined }).disabled).toMatch(/S3_BACKUP_ENABLED is not set/);
    expect(config(["list"], { ...S3_ENV, BACKUP_NAME: "q", S3_BACKUP_ENABLED: "0" }).disabled).toMatch(/S3_BACKUP_ENABLED is "0"/);
    for (const on of ["1", "true", "YES", "on"]) {
      expect(config(["list"], { ...S3_ENV, BACKUP_NAME: "q", S3_BACKUP_ENABLED: on }).disabled).toBeUndefined();
    }
  });

  it("disables a directory destination only when it is explicitly off", () => {
    expect(config(["list", "--dir", "/d", "--name", "q"], {}).disabled).toBeUndefined();
    expect(config(["list", "--dir", "/d", "--name", "q"], { S3_BACKUP_ENABLED: "off" }).disabled).toMatch(/"off"/);
  });
});

describe("command line", () => {
  it("knows help and version without any configuration", () => {
    expect(parseConfig([], {})).toEqual({ kind: "help", command: undefined });
    expect(parseConfig(["help", "restore"], {})).toEqual({ kind: "help", command: "restore" });
    expect(parseConfig(["prune", "--help"], {})).toEqual({ kind: "help", command: "prune" });
    expect(parseConfig(["--version"], {})).toEqual({ kind: "version" });
  });

  it.each([
    [["frobnicate"], /unknown command "frobnicate"/],
    [["list", "--frob"], /--frob/],
    [["list", "--force"], /list does not take --force/],
    [["restore"], /restore needs the key/],
    [["verify", "a", "b"], /unexpected argument "b"/],
    [["status", "--max-age"], /--max-age/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow(message);
  });

  it("parses each command's own flags", () => {
    const env = { ...S3_ENV, BACKUP_NAME: "q" };
    expect(config(["restore", "k", "-f", "--to", "/x", "--allow-unverified", "--json"], env)).toMatchObject({ key: "k", force: true, to: "/x", allowUnverified: true, json: true });
    expect(config(["prune", "--dry-run"], env)).toMatchObject({ dryRun: true, json: false });
    expect(config(["status", "--max-age", "26h"], env).maxAge).toBe(26 * 3_600_000);
    expect(config(["status", "--max-age", "90000"], env).maxAge).toBe(90_000);
  });
});

describe("exit codes", () => {
  it("map every error code, and anything else to 1", () => {
    expect(exitCodeOf(new ConfigError("X", "bad"))).toBe(EXIT_CODES.USAGE);
    expect(exitCodeOf(new UsageError("bad"))).toBe(EXIT_CODES.USAGE);
    expect(exitCodeOf(new BackupError("NOT_FOUND", "x"))).toBe(EXIT_CODES.NOT_FOUND);
    for (const code of ["CHECKSUM_MISMATCH", "CORRUPT_DATA", "INVALID_METADATA", "UNVERIFIED"] as const) {
      expect(exitCodeOf(new BackupError(code, "x"))).toBe(EXIT_CODES.INTEGRITY);
    }
    expect(exitCodeOf(new BackupError("TARGET_EXISTS", "x"))).toBe(EXIT_CODES.TARGET_EXISTS);
    expect(exitCodeOf(new BackupError("ADAPTER", "x"))).toBe(EXIT_CODES.STORAGE);
    expect(exitCodeOf(new BackupError("IN_PROGRESS", "x"))).toBe(EXIT_CODES.IN_PROGRESS);
    expect(exitCodeOf(new TypeError("bug"))).toBe(EXIT_CODES.UNEXPECTED);
    expect(new Set(Object.values(EXIT_CODES)).size).toBe(Object.keys(EXIT_CODES).length);
  });
});

describe("properties", () => {
  it("no configuration error ever contains the secret key or session token", () => {
    const variables = ["S3_BACKUP_ENABLED", "S3_BUCKET", "S3_REGION", "S3_ENDPOINT", "S3_FORCE_PATH_STYLE", "S3_RETRY_FOR", "S3_BACKUP_INTERVAL", "S3_BACKUP_RETENTION", "S3_BACKUP_PREFIX", "BACKUP_NAME"];
    fc.assert(
      fc.property(
        fc.string({ minLength: 8 }).filter((s) => s.trim().length >= 8),
        fc.string({ minLength: 8 }).filter((s) => s.trim().length >= 8),
        fc.constantFrom(...variables),
        fc.string(),
        (secret, token, variable, value) => {
          // An error may quote the invalid value itself; fast-check likes to pick the same word ("toString") for both.
          fc.pre(!value.includes(secret) && !value.includes(token));
          const env = { ...S3_ENV, BACKUP_NAME: "q", S3_SECRET_ACCESS_KEY: secret, S3_SESSION_TOKEN: token, [variable]: value };
          try {
            config(["list"], env);
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigError);
            const text = `${(error as Error).message} ${JSON.stringify(error)}`;
            expect(text).not.toContain(secret);
            expect(text).not.toContain(token);
          }
        },
      ),
    );
  });

  it("durations parse back from their formatting, and plain numbers are milliseconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2_000_000_000 }), (n) => {
        expect(parseDuration(String(n))).toBe(n);
        const seconds = n - (n % 1000) || 1000;
        expect(parseDuration(formatDuration(seconds))).toBe(seconds);
      }),
    );
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("1.5s")).toBe(1500);
    for (const bad of ["", "h", "5x", "5 h", "-1h", "1h-", "1e3"]) expect(parseDuration(bad)).toBeUndefined();
  });

  it("a masked key id never shows most of the id", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), (id) => {
        const visible = maskKeyId(id).replace("…", "").length;
        expect(visible).toBeLessThanOrEqual(Math.floor(id.length / 2));
      }),
    );
    expect(maskKeyId("AKIAIOSFODNN7EXAMPLE")).toBe("AKIA…PLE");
  });

  it("redaction removes every occurrence of each secret", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4 }), fc.array(fc.string()), (secret, parts) => {
        expect(redactor([secret])(parts.join(secret) + secret)).not.toContain(secret);
      }),
    );
  });

  it("formats sizes and ages for people", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.50 KiB");
    expect(formatBytes(12.3 * 1024 * 1024)).toBe("12.3 MiB");
    expect(formatBytes(200 * 1024 ** 3)).toBe("200 GiB");
    expect(formatAge(3 * 3_600_000 + 59 * 60_000)).toBe("3h ago");
    expect(formatAge(45_000)).toBe("45s ago");
    expect(formatAge(2 * 86_400_000)).toBe("2d ago");
  });
});
