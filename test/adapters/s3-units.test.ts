/**
 * The S3 adapter's pure parts: option validation, presets, the XML reader, digests (native
 * and portable), part sizing, and type compatibility with AWS SDK credential providers.
 */

import { createHash } from "node:crypto";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  awsS3,
  cloudflareR2,
  digitalOceanSpaces,
  minio,
  s3Adapter,
  type S3AdapterOptions,
  type S3CredentialProvider,
  type S3Credentials,
} from "../../src/adapters/s3.js";
import { md5Base64, sha256Hex } from "../../src/adapters/s3/hash.js";
import { resolveS3Options as resolveOptions } from "../../src/adapters/s3/options.js";
import { partSizeFor } from "../../src/adapters/s3/put.js";
import { formatSpan } from "../../src/adapters/s3/retry.js";
import { decodeXml, escapeXml, xmlBlocks, xmlText } from "../../src/adapters/s3/xml.js";
import { BackupError, ConfigError } from "../../src/errors.js";

const MiB = 1024 * 1024;
const SECRET = "unit-secret-value-7Hq";
const base: S3AdapterOptions = { bucket: "my-bucket", region: "eu-west-1", accessKeyId: "AKIA1", secretAccessKey: SECRET };

function configError(opts: unknown): ConfigError {
  try {
    s3Adapter(opts as S3AdapterOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect(BackupError.is(err, "CONFIG")).toBe(true);
    expect(String(err)).not.toContain(SECRET);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("options", () => {
  it.each([
    [{ ...base, bucket: "" }, "bucket"],
    [{ ...base, bucket: "has space" }, "bucket"],
    [{ ...base, region: undefined }, "region"],
    [{ ...base, accessKeyId: undefined }, "accessKeyId"],
    [{ ...base, secretAccessKey: " " }, "secretAccessKey"],
    [{ ...base, sessionToken: "" }, "sessionToken"],
    [{ ...base, credentials: { accessKeyId: "A", secretAccessKey: "B" } }, "credentials"],
    [{ bucket: "b-1", region: "r", credentials: { accessKeyId: "A" } }, "credentials.secretAccessKey"],
    [{ bucket: "b-1", region: "r", credentials: 42 }, "credentials"],
    [{ ...base, endpoint: "not a url" }, "endpoint"],
    [{ ...base, endpoint: "ftp://x" }, "endpoint"],
    [{ ...base, endpoint: `https://AKIA1:${SECRET}@host` }, "endpoint"],
    [{ ...base, endpoint: "http://127.0.0.1:9000", forcePathStyle: false }, "forcePathStyle"],
    [{ ...base, partSize: 4 * MiB }, "partSize"],
    [{ ...base, partSize: 5.5 * MiB + 0.5 }, "partSize"],
    [{ ...base, multipartThreshold: 9 * MiB }, "multipartThreshold"],
    [{ ...base, concurrency: 0 }, "concurrency"],
    [{ ...base, maxAttempts: 0 }, "maxAttempts"],
    [{ ...base, retryFor: -1 }, "retryFor"],
    [{ ...base, retryFor: 1.5 }, "retryFor"],
    [{ ...base, retry: { baseDelayMs: -1 } }, "retry.baseDelayMs"],
    [{ ...base, fetch: "fetch" }, "fetch"],
    [{ ...base, requestTimeoutMs: 0 }, "requestTimeoutMs"],
    [{ ...base, requestTimeoutMs: 2 ** 31 }, "requestTimeoutMs"],
  ])("rejects %# naming the option", (opts, option) => {
    expect(configError(opts).option).toBe(option);
  });

  it("never repeats a credential in a validation message", () => {
    const err = configError({ ...base, endpoint: `https://AKIA1:${SECRET}@host` });
    expect(err.message).not.toContain(SECRET);
  });

  it("addresses buckets virtual-hosted by default and path-style for IPs, localhost or when forced", () => {
    expect(resolveOptions(base).bucketUrl).toBe("https://my-bucket.s3.eu-west-1.amazonaws.com");
    expect(resolveOptions({ ...base, endpoint: "http://127.0.0.1:9000" }).bucketUrl).toBe("http://127.0.0.1:9000/my-bucket");
    expect(resolveOptions({ ...base, endpoint: "http://localhost:9000/" }).bucketUrl).toBe("http://localhost:9000/my-bucket");
    expect(resolveOptions({ ...base, endpoint: "https://minio.example/s3/", forcePathStyle: true }).bucketUrl).toBe(
      "https://minio.example/s3/my-bucket",
    );
  });

  it("defaults: 5 MiB parts, threshold = part size, 4 in flight, retries for 5 minutes with no attempt limit", () => {
    expect(resolveOptions(base)).toMatchObject({ partSize: 5 * MiB, multipartThreshold: 5 * MiB, concurrency: 4, maxAttempts: Infinity, retryFor: 300_000 });
  });
});

describe("presets", () => {
  it("give each provider's endpoint, region and addressing", () => {
    expect(awsS3({ region: "us-west-2" })).toEqual({ region: "us-west-2" });
    expect(cloudflareR2({ accountId: "abc123" })).toEqual({ region: "auto", endpoint: "https://abc123.r2.cloudflarestorage.com", concurrency: 2 });
    expect(cloudflareR2({ accountId: "abc123", jurisdiction: "eu" }).endpoint).toBe("https://abc123.eu.r2.cloudflarestorage.com");
    expect(minio({ endpoint: "http://minio:9000" })).toEqual({ region: "us-east-1", endpoint: "http://minio:9000", forcePathStyle: true });
    expect(digitalOceanSpaces({ region: "fra1" })).toEqual({ region: "fra1", endpoint: "https://fra1.digitaloceanspaces.com" });
  });

  it("spread into valid adapter options", () => {
    const creds = { bucket: "backups", accessKeyId: "A", secretAccessKey: "B" };
    expect(resolveOptions({ ...cloudflareR2({ accountId: "abc" }), ...creds }).bucketUrl).toBe("https://backups.abc.r2.cloudflarestorage.com");
    expect(resolveOptions({ ...minio({ endpoint: "http://minio:9000" }), ...creds }).bucketUrl).toBe("http://minio:9000/backups");
    expect(resolveOptions({ ...digitalOceanSpaces({ region: "nyc3" }), ...creds }).bucketUrl).toBe("https://backups.nyc3.digitaloceanspaces.com");
    expect(resolveOptions({ ...awsS3({ region: "us-east-1" }), ...creds }).bucketUrl).toBe("https://backups.s3.us-east-1.amazonaws.com");
  });
});

describe("xml", () => {
  it("decodes named and numeric entities exactly once", () => {
    expect(decodeXml("a&amp;b&lt;&gt;&quot;&apos;&#26085;&#x1F389;&amp;amp;")).toBe("a&b<>\"'日🎉&amp;");
  });

  it("escapes what it decodes", () => {
    const text = `<k&"'>`;
    expect(decodeXml(escapeXml(text))).toBe(text);
  });

  it("reads blocks, attributes, empty elements and missing ones", () => {
    const xml = `<R xmlns="x"><Contents><Key>a</Key></Contents><Contents id="2"><Key>b &amp; c</Key></Contents><ETag/></R>`;
    expect(xmlBlocks(xml, "Contents").map((b) => xmlText(b, "Key"))).toEqual(["a", "b & c"]);
    expect(xmlText(xml, "ETag")).toBe("");
    expect(xmlText(xml, "Missing")).toBeUndefined();
    expect(xmlBlocks("<Contents><Key>x</Key>", "Contents")).toEqual([]);
  });
});

describe("digests", () => {
  const samples = [0, 1, 55, 56, 63, 64, 65, 1000, 70_000].map((n) => new Uint8Array(n).map((_, i) => (i * 7 + n) & 0xff));

  it("portable MD5 matches node:crypto at every padding boundary", () => {
    for (const bytes of samples) {
      const expected = createHash("md5").update(bytes).digest("base64");
      expect(md5Base64(bytes, true)).toBe(expected);
      expect(md5Base64(bytes, false)).toBe(expected);
    }
  });

  it("Web Crypto SHA-256 matches node:crypto, also for a view into a larger buffer", async () => {
    const big = new Uint8Array(1000).map((_, i) => i & 0xff);
    for (const bytes of [...samples, big.subarray(100, 700)]) {
      const expected = createHash("sha256").update(bytes).digest("hex");
      expect(await sha256Hex(bytes, true)).toBe(expected);
      expect(await sha256Hex(bytes, false)).toBe(expected);
    }
  });
});

describe("part size", () => {
  it("keeps the configured size while the hint fits in 10 000 parts, grows in whole MiB beyond", () => {
    expect(partSizeFor(8 * MiB, undefined)).toBe(8 * MiB);
    expect(partSizeFor(8 * MiB, 80_000 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(8 * MiB, 80_000 * MiB + 1)).toBe(9 * MiB);
    expect(partSizeFor(8 * MiB, 20 * 1024 ** 4)).toBe(Math.ceil((20 * 1024 ** 4) / 10_000 / MiB) * MiB);
    expect(partSizeFor(8 * MiB, 100 * 1024 ** 4)).toBe(5 * 1024 * MiB);
  });
});

describe("types", () => {
  it("accepts AWS SDK credential identities and providers as they are", () => {
    expectTypeOf<AwsCredentialIdentity>().toExtend<S3Credentials>();
    expectTypeOf<AwsCredentialIdentityProvider>().toExtend<S3CredentialProvider>();
    expectTypeOf<AwsCredentialIdentityProvider>().toExtend<NonNullable<S3AdapterOptions["credentials"]>>();
    const provider: AwsCredentialIdentityProvider = async () => ({ accessKeyId: "A", secretAccessKey: "B", expiration: new Date() });
    expect(() => s3Adapter({ bucket: "bkt", region: "us-east-1", credentials: provider })).not.toThrow();
  });
});

describe("formatSpan", () => {
  it("prints how long retries went on as restic and Go print durations", () => {
    expect([4_960, 59_949, 60_000, 120_000, 125_400, 3_723_000].map(formatSpan)).toEqual(["5.0s", "59.9s", "1m0s", "2m0s", "2m5s", "1h2m3s"]);
  });
});
