/**
 * S3_PROVIDER and the storage variables (S3_STORAGE_CLASS, S3_SSE, S3_SSE_KMS_KEY_ID,
 * S3_OBJECT_LOCK_MODE, S3_OBJECT_LOCK_DAYS): what they set, and that a bad value names its variable.
 */
import { describe, expect, it } from "vitest";
import { parseConfig, type Env } from "../../src/cli/config.js";
import { ConfigError } from "../../src/errors.js";

const ENV: Env = { S3_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", S3_SECRET_ACCESS_KEY: "secret", S3_BUCKET: "my-backups", BACKUP_NAME: "db" };

function options(env: Env) {
  const inv = parseConfig(["list"], { ...ENV, ...env });
  if (inv.kind !== "command" || inv.config.destination.kind !== "s3") throw new Error("expected an S3 destination");
  return inv.config.destination.options;
}

function failingVariable(env: Env): string {
  try {
    options(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).option;
  }
  throw new Error("expected a ConfigError");
}

describe("S3_PROVIDER", () => {
  it.each([
    [{ S3_PROVIDER: "b2", S3_REGION: "us-west-004" }, { region: "us-west-004", endpoint: "https://s3.us-west-004.backblazeb2.com" }],
    [{ S3_PROVIDER: "hetzner", S3_REGION: "fsn1" }, { region: "fsn1", endpoint: "https://fsn1.your-objectstorage.com" }],
    [{ S3_PROVIDER: "tigris" }, { region: "auto", endpoint: "https://t3.storage.dev" }],
    [{ S3_PROVIDER: "gcs" }, { region: "auto", endpoint: "https://storage.googleapis.com" }],
    [{ S3_PROVIDER: "garage", S3_ENDPOINT: "http://garage:3900" }, { region: "garage", endpoint: "http://garage:3900", forcePathStyle: true }],
    [{ S3_PROVIDER: "r2", S3_ENDPOINT: "https://acc.r2.cloudflarestorage.com" }, { region: "auto", concurrency: 2 }],
    [{ S3_PROVIDER: "Wasabi", S3_REGION: "eu-central-1" }, { endpoint: "https://s3.eu-central-1.wasabisys.com" }],
  ])("%j applies the preset", (env, expected) => {
    expect(options(env)).toMatchObject(expected);
  });

  it("lets S3_REGION and S3_ENDPOINT override a preset", () => {
    expect(options({ S3_PROVIDER: "garage", S3_ENDPOINT: "http://g:3900", S3_REGION: "eu-1" })).toMatchObject({ region: "eu-1" });
  });

  it.each([
    [{ S3_PROVIDER: "dropbox" }, "S3_PROVIDER"],
    [{ S3_PROVIDER: "b2" }, "S3_REGION"],
    [{ S3_PROVIDER: "minio" }, "S3_ENDPOINT"],
  ])("%j fails naming %s", (env, variable) => {
    expect(failingVariable(env)).toBe(variable);
  });
});

describe("storage class, encryption, Object Lock", () => {
  it("sets them", () => {
    expect(
      options({ S3_STORAGE_CLASS: "STANDARD_IA", S3_SSE: "aws:kms", S3_SSE_KMS_KEY_ID: "arn:k", S3_OBJECT_LOCK_MODE: "compliance", S3_OBJECT_LOCK_DAYS: "30" }),
    ).toMatchObject({ storageClass: "STANDARD_IA", sse: { kmsKeyId: "arn:k" }, objectLock: { mode: "COMPLIANCE", retainDays: 30 } });
    expect(options({ S3_SSE: "AES256" })).toMatchObject({ sse: "AES256" });
  });

  it.each([
    [{ S3_SSE: "rot13" }, "S3_SSE"],
    [{ S3_SSE: "aws:kms" }, "S3_SSE_KMS_KEY_ID"],
    [{ S3_SSE_KMS_KEY_ID: "arn:k" }, "S3_SSE_KMS_KEY_ID"],
    [{ S3_OBJECT_LOCK_MODE: "forever", S3_OBJECT_LOCK_DAYS: "3" }, "S3_OBJECT_LOCK_MODE"],
    [{ S3_OBJECT_LOCK_MODE: "GOVERNANCE", S3_OBJECT_LOCK_DAYS: "0" }, "S3_OBJECT_LOCK_DAYS"],
    [{ S3_OBJECT_LOCK_MODE: "GOVERNANCE" }, "S3_OBJECT_LOCK_DAYS"],
    [{ S3_OBJECT_LOCK_DAYS: "3" }, "S3_OBJECT_LOCK_MODE"],
  ])("%j fails naming %s", (env, variable) => {
    expect(failingVariable(env)).toBe(variable);
  });
});
