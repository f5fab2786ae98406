import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { exitCodeOf } from "../../src/cli/exit-codes.js";
import * as errors from "../../src/errors.js";
import { BackupError, InternalError, NotFoundError, TargetError } from "../../src/errors.js";

describe("the error family", () => {
  it("gives every class a literal name, which minification cannot rename", () => {
    const e = errors;
    const instances: Error[] = [
      new e.BackupError("INTERNAL", "x"), new e.ConfigError("o", "x"), new e.BackupInProgressError(), new e.NotFoundError("k"),
      new e.InvalidKeyError("k", "x"), new e.TargetExistsError("t"), new e.ChecksumMismatchError("k", "stored", "a", "b"),
      new e.CorruptDataError("k", "x"), new e.RestoreCapError("k", 1, "default"), new e.InvalidMetadataError("k", "x"), new e.UnverifiedBackupError("k"),
      new e.DecryptionError("k", "no-key"), new e.LeaseHeldError("k", "x", { lost: false }),
      new e.SourceError("x"), new e.TargetError("t", "x"), new e.InternalError("x"), new e.AdapterError("a", "get", "x"),
      new e.AbortedError(),
    ];
    const classes = Object.entries(errors).filter(([, v]) => typeof v === "function" && (v === BackupError || v.prototype instanceof BackupError));
    expect(instances.map((i) => i.name).sort()).toEqual(classes.map(([name]) => name).sort());
    for (const instance of instances) expect(instance.constructor.name).toBe(instance.name);
  });

  it("recognises errors of another copy of the library, and no foreign error that merely carries one of its codes", () => {
    const require = createRequire(import.meta.url);
    const cjs = require("../../dist/index.cjs") as typeof errors;
    const other = new cjs.NotFoundError("k");
    expect(other instanceof BackupError).toBe(false);
    expect(BackupError.is(other, "NOT_FOUND")).toBe(true);
    const foreign = Object.assign(new Error("no such file"), { code: "NOT_FOUND" });
    expect(BackupError.is(foreign)).toBe(false);
    expect(BackupError.is({ code: "NOT_FOUND" })).toBe(false);
    expect(BackupError.is(new NotFoundError("k"), "NOT_FOUND")).toBe(true);
    expect(BackupError.is(new NotFoundError("k"), "SOURCE")).toBe(false);
  });

  it("maps an unclassified failure to exit 1 and a restore-target failure to exit 9", () => {
    expect(exitCodeOf(new InternalError("bug", { cause: new TypeError("x") }))).toBe(1);
    expect(exitCodeOf(new TargetError("/x", "disk full"))).toBe(9);
    expect(exitCodeOf(new Error("plain"))).toBe(1);
  });
});
