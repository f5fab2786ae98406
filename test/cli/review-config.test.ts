/**
 * Review finding: the CLI could not set `maxRestoreBytes`. `restore --max-restore-bytes <size>`
 * and `BACKUP_MAX_RESTORE_BYTES` now set it (the flag wins); a bad value is a ConfigError naming
 * where it came from, exit 2; unset leaves the library's default cap.
 */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/args.js";
import { backupperSettings, type Env } from "../../src/cli/config.js";
import { config, configError, failure } from "../helpers/cli-config.js";
import { EXIT_CODES, exitCodeOf } from "../../src/cli/exit-codes.js";
import { helpText } from "../../src/cli/help.js";

const ENV: Env = { BACKUP_DIR: "/var/backups", BACKUP_NAME: "bunqueue" };
const RESTORE = ["restore", "k", "--to", "/tmp/x.db", "--allow-unverified"];


describe("--max-restore-bytes / BACKUP_MAX_RESTORE_BYTES", () => {
  it.each([
    ["0", 0],
    ["1048576", 1_048_576],
    ["512K", 512 * 1024],
    ["512KiB", 512 * 1024],
    ["64mib", 64 * 1024 ** 2],
    ["1.5 GiB", 1.5 * 1024 ** 3],
    ["2G", 2 * 1024 ** 3],
    [" 3TiB ", 3 * 1024 ** 4],
    ["100B", 100],
  ])("%j is %d bytes, from the variable or the flag", (text, bytes) => {
    expect(config(RESTORE, { ...ENV, BACKUP_MAX_RESTORE_BYTES: text }).maxRestoreBytes).toBe(bytes);
    expect(config([...RESTORE, "--max-restore-bytes", text], ENV).maxRestoreBytes).toBe(bytes);
  });

  it("reaches createBackupper; unset leaves the library's default; the flag beats the variable", () => {
    expect(config(RESTORE, ENV).maxRestoreBytes).toBeUndefined();
    expect(backupperSettings(config(RESTORE, ENV)).maxRestoreBytes).toBeUndefined();
    expect(config(RESTORE, { ...ENV, BACKUP_MAX_RESTORE_BYTES: "" }).maxRestoreBytes).toBeUndefined();
    const both = config([...RESTORE, "--max-restore-bytes", "2GiB"], { ...ENV, BACKUP_MAX_RESTORE_BYTES: "1GiB" });
    expect(backupperSettings(both).maxRestoreBytes).toBe(2 * 1024 ** 3);
  });

  it.each(["lots", "-1", "10GB", "1e9", "5 MiBs", "1.5.2G", "0x10", "99999999999TiB", "tib", "constructor"])(
    "%j is an error naming the variable or the flag, exit 2",
    (value) => {
      for (const [argv, env, from] of [
        [RESTORE, { ...ENV, BACKUP_MAX_RESTORE_BYTES: value }, "BACKUP_MAX_RESTORE_BYTES"],
        [[...RESTORE, `--max-restore-bytes=${value}`], { ...ENV, BACKUP_MAX_RESTORE_BYTES: "1GiB" }, "--max-restore-bytes"],
      ] as const) {
        const error = configError([...argv], env);
        expect(error.option).toBe(from);
        expect(error.message).toMatch(new RegExp(`^${from}: must be bytes or a size such as 512MiB`));
        expect(exitCodeOf(error)).toBe(EXIT_CODES.USAGE);
      }
    },
  );

  it("only restore takes the flag; help documents it and the variable", () => {
    const error = failure(["verify", "k", "--max-restore-bytes", "1GiB"], ENV);
    expect(error).toBeInstanceOf(UsageError);
    expect(exitCodeOf(error)).toBe(EXIT_CODES.USAGE);
    const help = helpText("restore");
    expect(help).toContain("--max-restore-bytes <size>");
    expect(help).toContain("BACKUP_MAX_RESTORE_BYTES");
    expect(help).toContain("100 × its stored size + 64 MiB");
  });
});
