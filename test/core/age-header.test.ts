/**
 * The native age header for X25519 recipients (src/pipeline/encryption/age-header.ts): what it
 * writes, the real `age` CLI and age-encryption's reader open with each recipient's identity; a
 * backup to such recipients with the native codec never constructs age-encryption's `Encrypter`
 * (mocked here to throw); any other recipient leaves the header to age-encryption.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import * as nodeCrypto from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Decrypter, generateHybridIdentity, identityToRecipient } from "age-encryption";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { getCodec } from "../../src/codec/index.js";
import { age } from "../../src/pipeline/encryption/age.js";
import { x25519HeaderOn } from "../../src/pipeline/encryption/age-header.js";
import { bech32Decode, polymod } from "../../src/pipeline/encryption/bech32.js";
import type { StageOptions } from "../../src/pipeline/stage.js";
import { concat } from "../../src/util/streams.js";
import { randomBytes, sha256 } from "../helpers/data.js";

vi.mock("age-encryption", async (original) => ({
  ...(await original<typeof import("age-encryption")>()),
  Encrypter: class {
    constructor() {
      throw new Error("age-encryption's Encrypter was used");
    }
  },
}));

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/**
 * Bech32 encoding (BIP 173), the inverse of the decoder under test, to make keys it has never
 * seen; its checksum is the decoder's `polymod`, which BIP 173's own strings check below.
 */
function bech32Encode(prefix: string, data: Uint8Array): string {
  const words: number[] = [];
  let accumulator = 0;
  let bits = 0;
  for (const byte of data) {
    accumulator = (accumulator << 8) | byte;
    bits += 8;
    for (; bits >= 5; bits -= 5) words.push((accumulator >>> (bits - 5)) & 31);
  }
  if (bits > 0) words.push((accumulator << (5 - bits)) & 31);
  const expanded = [...[...prefix].map((c) => c.charCodeAt(0) >> 5), 0, ...[...prefix].map((c) => c.charCodeAt(0) & 31)];
  const check = polymod([...expanded, ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = [0, 1, 2, 3, 4, 5].map((i) => (check >>> (5 * (5 - i))) & 31);
  return `${prefix}1${[...words, ...checksum].map((w) => CHARSET[w]).join("")}`;
}

describe("bech32Decode", () => {
  it("reads BIP 173's valid strings and what the encoder writes, and refuses a changed character, another prefix or bad padding", () => {
    expect(bech32Decode("a12uel5l", "a")).toEqual(new Uint8Array(0));
    expect(bech32Decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", "abcdef")).toEqual(Uint8Array.from(Buffer.from("00443214c74254b635cf84653a56d7c675be77df", "hex")));
    for (const size of [0, 1, 5, 31, 32, 33]) {
      const data = randomBytes(size, size);
      const text = bech32Encode("age", data);
      expect(bech32Decode(text, "age")).toEqual(data);
      expect(bech32Decode(text, "agf")).toBeUndefined();
      const changed = text.slice(0, -1) + (text.endsWith("q") ? "p" : "q");
      expect(bech32Decode(changed, "age")).toBeUndefined();
    }
    expect(bech32Decode("age1b", "age")).toBeUndefined();
    expect(bech32Decode("age1" + "o".repeat(10), "age")).toBeUndefined();
  });

  it("an age identity and its recipient decode to an X25519 key pair", async () => {
    const identity = execFileSync("age-keygen", { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).match(/AGE-SECRET-KEY-1[0-9A-Z]+/)![0];
    const recipient = await identityToRecipient(identity);
    const secret = bech32Decode(identity.toLowerCase(), "age-secret-key-")!;
    const pkcs8 = concat([new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]), secret]);
    const publicKey = createPublicKey(createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" }));
    expect(new Uint8Array(publicKey.export({ format: "der", type: "spki" })).subarray(12)).toEqual(bech32Decode(recipient, "age"));
  });
});

describe("the native X25519 header", () => {
  let dir: string;
  const keys: Array<{ file: string; identity: string; recipient: string }> = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "backupper-age-header-"));
    for (let i = 0; i < 3; i++) {
      const file = join(dir, `key-${i}.txt`);
      execFileSync("age-keygen", ["-o", file], { stdio: "pipe" });
      const identity = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(await readFile(file, "utf8"))![0];
      keys.push({ file, identity, recipient: execFileSync("age-keygen", ["-y", file], { encoding: "utf8" }).trim() });
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const options = (recipients: string[]): StageOptions => ({
    compression: "none",
    compressionLevel: 6,
    compressionWorkers: 1,
    codec: "auto",
    encryption: { recipients, passphrase: undefined, identities: [] },
  });

  const seal = async (plain: Uint8Array, recipients: string[]) => {
    const sealed = new Response(new Blob([plain as Uint8Array<ArrayBuffer>]).stream().pipeThrough(age.encode!(await getCodec("native"), options(recipients))));
    return new Uint8Array(await sealed.arrayBuffer());
  };

  it("exists where node:crypto has X25519, and is told apart where it has not", () => {
    expect(x25519HeaderOn(nodeCrypto)).toBeDefined();
    expect(x25519HeaderOn({ generateKeyPairSync: () => { throw new Error("Unknown key type"); } })).toBeUndefined();
    expect(x25519HeaderOn(undefined)).toBeUndefined();
  });

  it("a backup to three recipients: one X25519 stanza each, and `age -d` and age-encryption open it with every identity, without age-encryption's Encrypter", async () => {
    const plain = randomBytes(200_000, 9);
    const sealed = await seal(plain, keys.map((k) => k.recipient));
    const header = new TextDecoder().decode(sealed.subarray(0, Buffer.from(sealed).indexOf("\n--- ") + 1));
    expect(header.split("\n").filter((line) => line.startsWith("-> X25519 ")).length).toBe(3);
    expect(header).toMatch(/^age-encryption\.org\/v1\n(-> X25519 [A-Za-z0-9+/]{43}\n[A-Za-z0-9+/]{43}\n){3}$/);
    for (const key of keys) {
      expect(sha256(new Uint8Array(execFileSync("age", ["-d", "-i", key.file], { input: sealed })))).toBe(sha256(plain));
      const decrypter = new Decrypter();
      decrypter.addIdentity(key.identity);
      expect(sha256(await decrypter.decrypt(sealed))).toBe(sha256(plain));
    }
  });

  it("leaves every header that is not to X25519 recipients only to age-encryption", async () => {
    const writer = x25519HeaderOn(nodeCrypto)!;
    const hybrid = await identityToRecipient(await generateHybridIdentity());
    expect(writer([keys[0]!.recipient, hybrid])).toBeUndefined();
    expect(writer([keys[0]!.recipient.slice(0, -1) + (keys[0]!.recipient.endsWith("q") ? "p" : "q")])).toBeUndefined();
    expect(writer([bech32Encode("age", new Uint8Array(31))])).toBeUndefined();
    expect(writer([])).toBeUndefined();
    // With the mock, age-encryption writing the header shows as its Encrypter's error.
    await expect(seal(new Uint8Array(10), [hybrid])).rejects.toThrow("age-encryption's Encrypter was used");
  });

  it("refuses a low-order recipient, whose shared secret would be all zeros", () => {
    expect(() => x25519HeaderOn(nodeCrypto)!([bech32Encode("age", new Uint8Array(32))])).toThrow(/low-order/);
  });
});
