/**
 * Encrypted backups end to end (docs/FORMAT.md §1, §2, §4): round trips with recipients and a
 * passphrase on the memory and fs adapters, metadata that reveals no hash of the original, and
 * typed failures for a missing or wrong key and for tampered or truncated ciphertext, after
 * which the restore target is byte-identical to before.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Encrypter, generateIdentity, identityToRecipient } from "age-encryption";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { canWriteZstd } from "../../src/codec/index.js";
import { ConfigError } from "../../src/errors.js";
import { parseDataKey } from "../../src/format/keys.js";
import { encodeMeta } from "../../src/format/meta.js";
import { fileSource, fsAdapter } from "../../src/fs.js";
import type { BackupMeta } from "../../src/types.js";
import { BackupError, bytesSource, bytesTarget, createBackupper, streamSource, type StorageAdapter } from "../../src/index.js";
import { randomBytes, sha256 } from "../helpers/data.js";
import { listKeys, readObject } from "../helpers/fixtures.js";

let dir: string;
let identity: string;
let recipient: string;
let otherIdentity: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "backupper-age-"));
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  otherIdentity = await generateIdentity();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const adapters: Array<[string, (run: string) => StorageAdapter]> = [
  ["memory", () => memoryAdapter()],
  ["fs", (run) => fsAdapter({ root: join(dir, `store-${run}`) })],
];

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe.each(adapters)("encrypted round trips on %s", (_label, makeAdapter) => {
  it.each(["gzip", "none"] as const)("%s, to a recipient, restored and verified with its identity; the metadata holds no hash of the original", async (compression) => {
    const data = randomBytes(700_000);
    const adapter = makeAdapter(`${compression}-recipient`);
    const writer = createBackupper({ adapter, source: bytesSource(data, { name: "db" }), compression, encryption: { recipients: [recipient] } });
    const info = await writer.backup();
    expect(info.key).toMatch(compression === "gzip" ? /\.db\.gz\.age$/ : /\.db\.age$/);
    const metaText = text(await readObject(adapter, info.metaKey));
    expect(metaText).not.toContain(sha256(data));
    const meta = JSON.parse(metaText) as Record<string, unknown>;
    expect(meta).toMatchObject({ encryption: "age", format: "backupper/2", size: data.byteLength, compression });
    expect(meta.checksum).toBeUndefined();
    const stored = await readObject(adapter, info.key);
    expect(meta.storedChecksum).toBe(sha256(stored));
    expect(text(stored.subarray(0, 22))).toBe("age-encryption.org/v1\n");

    // The server holds public keys only: it lists the backup as encrypted, but cannot read it.
    const listed = await writer.list();
    expect(listed).toMatchObject([{ key: info.key, verified: true, meta: { encryption: "age" } }]);
    await expect(writer.restore(info.key, { to: bytesTarget() })).rejects.toMatchObject({ code: "DECRYPT", reason: "no-key" });

    const reader = createBackupper({ adapter, source: bytesSource(new Uint8Array(0), { name: "db" }), encryption: { identities: [otherIdentity, identity] } });
    const to = bytesTarget();
    await expect(reader.restore(info.key, { to })).resolves.toMatchObject({ size: data.byteLength, checksum: sha256(data), verified: true });
    expect(sha256(to.bytes!)).toBe(sha256(data));
    await expect(reader.verify(info.key)).resolves.toMatchObject({ size: data.byteLength });
  });

  it("with a passphrase, and a wrong passphrase is a DecryptionError saying so", async () => {
    const data = randomBytes(50_000);
    const adapter = makeAdapter("passphrase");
    const b = createBackupper({ adapter, source: bytesSource(data, { name: "db" }), encryption: { passphrase: "correct horse battery" } });
    const info = await b.backup();
    const to = bytesTarget();
    await b.restore(info.key, { to });
    expect(sha256(to.bytes!)).toBe(sha256(data));
    const wrong = createBackupper({ adapter, source: bytesSource(data, { name: "db" }), encryption: { passphrase: "incorrect horse" } });
    const error = await wrong.restore(info.key, { to: bytesTarget() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "DecryptionError", code: "DECRYPT", reason: "wrong-passphrase" });
    expect((error as Error).message).not.toContain("incorrect horse");
  }, 60_000);
});

describe("a bucket with both encrypted and clear backups", () => {
  it("lists both, and restores each with the configuration at hand", async () => {
    const adapter = memoryAdapter();
    const data = randomBytes(10_000);
    const clear = await createBackupper({ adapter, source: bytesSource(data, { name: "db" }) }).backup();
    const sealed = await createBackupper({ adapter, source: bytesSource(data, { name: "db" }), encryption: { recipients: [recipient] } }).backup();
    const reader = createBackupper({ adapter, source: bytesSource(data, { name: "db" }), encryption: { identities: [identity] } });
    const listed = await reader.list();
    expect(listed.map((b) => [b.key, b.meta?.encryption])).toEqual([[sealed.key, "age"], [clear.key, undefined]].sort((a, b) => (a[0]! < b[0]! ? 1 : -1)));
    for (const key of [clear.key, sealed.key]) {
      const to = bytesTarget();
      await reader.restore(key, { to });
      expect(sha256(to.bytes!)).toBe(sha256(data));
    }
  });
});

describe("damaged ciphertext", () => {
  async function sealedBackup() {
    const root = await mkdtemp(join(dir, "damage-"));
    const adapter = fsAdapter({ root: join(root, "store") });
    const data = randomBytes(300_000);
    const b = createBackupper({ adapter, source: bytesSource(data, { name: "db" }), encryption: { recipients: [recipient] } });
    const info = await b.backup();
    const target = join(root, "target.db");
    await writeFile(target, "the target as it was");
    const reader = createBackupper({ adapter, source: fileSource(target, { name: "db" }), encryption: { identities: [identity] } });
    return { info, file: join(root, "store", info.key), target, reader };
  }

  it.each([
    ["a flipped byte in the payload", (bytes: Buffer) => { bytes[bytes.length >> 1]! ^= 1; return bytes; }],
    ["a flipped byte in the header's MAC", (bytes: Buffer) => { bytes[bytes.indexOf("\n--- ") + 6]! ^= 1; return bytes; }],
    ["the final chunk dropped", (bytes: Buffer) => bytes.subarray(0, bytes.length - ((bytes.length - 200) % 65_552 || 65_552))],
    ["a truncated header", (bytes: Buffer) => bytes.subarray(0, 30)],
  ])("%s: a typed error, and the target unchanged", async (_what, damage) => {
    const { info, file, target, reader } = await sealedBackup();
    await writeFile(file, damage(await readFile(file)));
    const error = await reader.restore(info.key, { force: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: expect.stringMatching(/^(CORRUPT_DATA|CHECKSUM_MISMATCH)$/) });
    expect(await readFile(target, "utf8")).toBe("the target as it was");
  });

  it("a flipped byte in the recipient stanza cannot be told from a wrong key: DECRYPT, saying the header may be damaged", async () => {
    const { info, file, target, reader } = await sealedBackup();
    const bytes = await readFile(file);
    // Another base64 letter, so the stanza still parses and only its key is wrong.
    const at = bytes.indexOf("-> X25519 ") + 12;
    bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
    await writeFile(file, bytes);
    const error = await reader.restore(info.key, { force: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "DECRYPT", reason: "wrong-identity", message: expect.stringMatching(/damaged/) });
    expect(await readFile(target, "utf8")).toBe("the target as it was");
  });

  it("a final chunk dropped at a chunk boundary, with metadata rewritten to match, still fails", async () => {
    const { info, file, target, reader } = await sealedBackup();
    const bytes = await readFile(file);
    // Header, 16-byte nonce, then 64 KiB + 16-byte tag chunks: cut after the first whole chunk.
    const headerEnd = bytes.indexOf("\n", bytes.indexOf("---")) + 1;
    const cut = bytes.subarray(0, headerEnd + 16 + 65_536 + 16);
    await writeFile(file, cut);
    const metaFile = `${file}.meta.json`;
    const meta = JSON.parse(await readFile(metaFile, "utf8")) as Record<string, unknown>;
    await writeFile(metaFile, JSON.stringify({ ...meta, compressedSize: cut.length, storedChecksum: sha256(cut) }));
    await expect(reader.restore(info.key, { force: true })).rejects.toMatchObject({ code: "CORRUPT_DATA" });
    expect(await readFile(target, "utf8")).toBe("the target as it was");
  });
});

describe("failures while encrypting", () => {
  const codeOf = (p: Promise<unknown>) => p.then(() => "resolved", (e: unknown) => (BackupError.is(e) ? e.code : `untyped: ${String(e)}`));

  it("a source that fails mid-stream is a SourceError, an abort is ABORTED, and neither leaves an object", async () => {
    const adapter = memoryAdapter();
    const encryption = { recipients: [recipient] };
    let sent = 0;
    const failing = streamSource(
      () =>
        new ReadableStream({
          pull(c) {
            if (sent++ === 20) c.error(new Error("disk went away"));
            else c.enqueue(randomBytes(1 << 16, sent));
          },
        }),
      { name: "db" },
    );
    expect(await codeOf(createBackupper({ adapter, source: failing, encryption }).backup())).toBe("SOURCE");
    const controller = new AbortController();
    const endless = streamSource(
      () =>
        new ReadableStream({
          pull(c) {
            c.enqueue(randomBytes(1 << 16));
            if (++sent > 40) controller.abort();
          },
        }),
      { name: "db" },
    );
    expect(await codeOf(createBackupper({ adapter, source: endless, encryption }).backup({ signal: controller.signal }))).toBe("ABORTED");
    expect(await listKeys(adapter)).toEqual([]);
  });
});

describe("encryption options", () => {
  it("refuses malformed keys without echoing a secret, and recipients together with a passphrase", () => {
    const source = bytesSource(new Uint8Array(0), { name: "db" });
    const adapter = memoryAdapter();
    expect(() => createBackupper({ adapter, source, encryption: { recipients: ["age1nope"] } })).toThrow(/encryption\.recipients\[0\]/);
    const secretish = "AGE-SECRET-KEY-1NOT-QUITE";
    let message = "";
    try {
      createBackupper({ adapter, source, encryption: { identities: [secretish] } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/encryption\.identities\[0\]/);
    expect(message).not.toContain(secretish);
    expect(() => createBackupper({ adapter, source, encryption: { recipients: [recipient], passphrase: "x" } })).toThrow(/not both/);
    expect(() => createBackupper({ adapter, source, encryption: { passphrase: "" } })).toThrow(/encryption\.passphrase/);
  });
});

/**
 * zstd inside age (`.db.zst.age`) on this machine's Node (20: no native zstd, so zstd is read by
 * fzstd and cannot be written). Writing it natively is tested on Node 24, Bun and Deno
 * (test/runtimes/zstd.test.ts), including `age -d | zstd -d` of the stored object.
 */
describe("zstd and age together", () => {
  const key = "backups/db-2026-11-26T12-00-00-000Z-abcd1234.db.zst.age";

  /** `data` compressed by the real `zstd` CLI (two frames), then encrypted to `recipient`. */
  async function sealedZstd(data: Uint8Array): Promise<Uint8Array> {
    const half = Math.floor(data.byteLength / 2);
    const zst = Buffer.concat([data.subarray(0, half), data.subarray(half)].map((part) => execFileSync("zstd", ["-q", "-c"], { input: part })));
    const encrypter = new Encrypter();
    encrypter.addRecipient(recipient);
    return encrypter.encrypt(zst);
  }

  it("a planted .db.zst.age key parses, with the whole stage suffix", () => {
    expect(parseDataKey("backups/", "db", key)).toEqual({ timestamp: new Date("2026-11-26T12:00:00.000Z"), id: "abcd1234", suffix: ".zst.age" });
  });

  it.each([
    ["metadata naming zstd and age", { compression: "zstd", compressed: true, encryption: "age" }],
    ["metadata naming age only: zstd from the key's suffix", { encryption: "age" }],
  ] as Array<[string, Partial<BackupMeta>]>)("a planted .db.zst.age backup is listed, restored and verified with the identity (%s)", async (_label, fields) => {
    const data = Buffer.concat([Buffer.from("queue row ".repeat(30_000)), randomBytes(200_000)]);
    const stored = await sealedZstd(data);
    const adapter = memoryAdapter();
    await adapter.put(key, stored);
    const meta = { timestamp: "2026-11-26T12:00:00.000Z", version: "x", size: data.byteLength, compressedSize: stored.byteLength, storedChecksum: sha256(stored), format: "backupper/2", ...fields };
    await adapter.put(`${key}.meta.json`, encodeMeta(meta));

    const reader = createBackupper({ adapter, source: bytesSource(new Uint8Array(0), { name: "db" }), encryption: { identities: [identity] } });
    expect(await reader.list()).toMatchObject([{ key, verified: true, meta: { encryption: "age" } }]);
    const to = bytesTarget();
    await expect(reader.restore(key, { to })).resolves.toMatchObject({ size: data.byteLength, checksum: sha256(data), verified: true });
    expect(Buffer.from(to.bytes!).equals(data)).toBe(true);
    await expect(reader.verify(key)).resolves.toMatchObject({ size: data.byteLength });
    // Without the identity the age layer refuses before zstd sees a byte.
    const keyless = createBackupper({ adapter, source: bytesSource(new Uint8Array(0), { name: "db" }) });
    await expect(keyless.restore(key, { to: bytesTarget() })).rejects.toMatchObject({ code: "DECRYPT", reason: "no-key" });
  });

  it.runIf(!canWriteZstd("auto"))(`compression "zstd" with encryption on this runtime (${process.version}) is still the ConfigError naming compression`, () => {
    let error: unknown;
    try {
      createBackupper({ adapter: memoryAdapter(), source: bytesSource(new Uint8Array(0), { name: "db" }), compression: "zstd", encryption: { recipients: [recipient] } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe("compression");
    expect((error as Error).message).toMatch(/^compression: "zstd" is written only by the native codec/);
  });
});
