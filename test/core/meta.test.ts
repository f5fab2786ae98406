import { describe, expect, it } from "vitest";
import { encodeMeta, metaSaysCompressed, parseMeta } from "../../src/format/meta.js";
import { InvalidMetadataError } from "../../src/errors.js";

const SUM = "a".repeat(64);
const good = { timestamp: "2026-11-26T12:00:00.000Z", version: "1.2.3", size: 10, compressedSize: 5, checksum: SUM, compressed: true };
const bytes = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

describe("metadata", () => {
  it("accepts bunqueue's current format and keeps unknown fields", () => {
    const meta = parseMeta("k", bytes({ ...good, lease: { alg: "x" } }));
    expect(meta).toMatchObject(good);
    expect(meta.lease).toEqual({ alg: "x" });
    expect(metaSaysCompressed(meta)).toBe(true);
  });

  it("accepts bunqueue's oldest format and leaves compression to sniffing", () => {
    const meta = parseMeta("k", bytes({ timestamp: good.timestamp, version: "0.1", size: 10, checksum: SUM }));
    expect(metaSaysCompressed(meta)).toBeUndefined();
  });

  it("accepts an encrypted backup's metadata without a checksum of the original (docs/FORMAT.md §2)", () => {
    const { checksum: _, ...sealed } = { ...good, encryption: "age", format: "backupper/2", mode: "600", storedChecksum: "b".repeat(64) };
    const meta = parseMeta("k", bytes(sealed));
    expect(meta).toEqual(sealed);
    expect("checksum" in meta).toBe(false);
  });

  it("round-trips what it encodes", () => {
    const meta = { ...good, format: "backupper/1", name: "q", compression: "gzip" as const, storedChecksum: "b".repeat(64) };
    expect(parseMeta("k", encodeMeta(meta))).toEqual(meta);
  });

  it.each([
    ["not JSON", "{", undefined],
    ["not an object", "[1]", undefined],
    ["null", "null", undefined],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), undefined],
    ["missing size", { ...good, size: undefined }, "size"],
    ["string size", { ...good, size: "10" }, "size"],
    ["negative size", { ...good, size: -1 }, "size"],
    ["fractional size", { ...good, size: 1.5 }, "size"],
    ["huge size", { ...good, size: 2 ** 60 }, "size"],
    ["bad checksum", { ...good, checksum: "xyz" }, "checksum"],
    ["missing checksum", { ...good, checksum: undefined }, "checksum"],
    ["bad timestamp", { ...good, timestamp: "yesterday" }, "timestamp"],
    ["numeric version", { ...good, version: 1 }, "version"],
    ["string compressed", { ...good, compressed: "yes" }, "compressed"],
    ["unknown compression", { ...good, compression: "lz4" }, "compression"],
    ["unknown format", { ...good, format: "backupper/3" }, "format"],
    ["contradiction", { ...good, compressed: true, compression: "none" }, "compression"],
    ["bad storedChecksum", { ...good, storedChecksum: 5 }, "storedChecksum"],
    ["unknown encryption", { ...good, encryption: "rot13" }, "encryption"],
    ["bad checksum of an encrypted backup", { ...good, encryption: "age", checksum: "xyz" }, "checksum"],
    ["numeric mode", { ...good, mode: 384 }, "mode"],
    ["non-octal mode", { ...good, mode: "689" }, "mode"],
  ])("rejects %s with a typed error naming the field", (_label, value, field) => {
    const input = value instanceof Uint8Array ? value : bytes(value);
    let error: unknown;
    try {
      parseMeta("backups/x.meta.json", input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidMetadataError);
    expect((error as InvalidMetadataError).code).toBe("INVALID_METADATA");
    expect((error as InvalidMetadataError).field).toBe(field);
    expect((error as Error).message).toContain("backups/x.meta.json");
  });

  it("rejects oversized metadata", () => {
    expect(() => parseMeta("k", new Uint8Array(1 << 20))).toThrow(InvalidMetadataError);
  });
});
