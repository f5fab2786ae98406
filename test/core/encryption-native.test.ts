/**
 * The age stage's two payload ciphers against each other and against the real `age` CLI
 * (src/pipeline/encryption/age-payload.ts on node:crypto, `age-encryption`'s own with
 * `codec: "portable"`): what either writes, the other and `age -d` read, and what `age` writes,
 * both read, at every chunk boundary and however the input is cut; damage fails the native
 * reader with an error saying what happened.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity } from "age-encryption";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getCodec, type Codec } from "../../src/codec/index.js";
import { DecryptionError } from "../../src/errors.js";
import { age } from "../../src/pipeline/encryption/age.js";
import { nativePayloadOn } from "../../src/pipeline/encryption/age-payload.js";
import type { StageOptions } from "../../src/pipeline/stage.js";
import { concat } from "../../src/util/streams.js";
import { randomBytes, sha256 } from "../helpers/data.js";

const KiB64 = 64 * 1024;
const SEALED = KiB64 + 16;

let dir: string;
let keyFile: string;
let identity: string;
let recipient: string;
let native: Codec;
let portable: Codec;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "backupper-age-native-"));
  keyFile = join(dir, "key.txt");
  execFileSync("age-keygen", ["-o", keyFile], { stdio: "pipe" });
  identity = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(await readFile(keyFile, "utf8"))![0];
  recipient = execFileSync("age-keygen", ["-y", keyFile], { encoding: "utf8" }).trim();
  [native, portable] = await Promise.all([getCodec("native"), getCodec("portable")]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const options = (encryption: Partial<StageOptions["encryption"]>): StageOptions => ({
  compression: "none",
  compressionLevel: 6,
  compressionWorkers: 1,
  codec: "auto",
  encryption: { recipients: [], passphrase: undefined, identities: [], ...encryption },
});

/** `bytes` in pieces of the sizes `cuts` repeats, as a stream. */
function piecewise(bytes: Uint8Array, cuts: readonly number[]): ReadableStream<Uint8Array> {
  let offset = 0;
  let k = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      const size = cuts[k++ % cuts.length]!;
      controller.enqueue(bytes.subarray(offset, offset + size));
      offset += size;
    },
  });
}

/** Every chunk `stream` yields. */
async function chunks(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) out.push(next.value);
  return out;
}

const encrypt = async (codec: Codec, plain: Uint8Array, cuts: readonly number[] = [1 << 20]) =>
  chunks(piecewise(plain, cuts).pipeThrough(age.encode!(codec, options({ recipients: [recipient] }))));

const decrypt = async (codec: Codec, sealed: Uint8Array, cuts: readonly number[] = [1 << 20], keys: Partial<StageOptions["encryption"]> = { identities: [identity] }) =>
  chunks(piecewise(sealed, cuts).pipeThrough(await age.decode!(codec, options(keys), "backups/x.db.age")));

const ageCli = (args: string[], input: Uint8Array) => new Uint8Array(execFileSync("age", args, { input, maxBuffer: 1 << 28 }));

const SIZES = [0, 1, KiB64 - 1, KiB64, KiB64 + 1, 2 * KiB64, 3 * KiB64 + 5, 1024 * 1024 + 7];
const CUTS: ReadonlyArray<readonly number[]> = [[1 << 20], [1000, 70_000, 13], [KiB64], [SEALED]];

describe("the native payload cipher", () => {
  it("exists on this runtime (Node has ChaCha20-Poly1305 in node:crypto)", async () => {
    expect(nativePayloadOn(await import("node:crypto"))).toBeDefined();
    // A node:crypto without the cipher (Bun 1.4) is told apart, and the portable payload used.
    expect(nativePayloadOn({ createCipheriv: () => { throw new Error("Unknown cipher"); } })).toBeUndefined();
    expect(nativePayloadOn(undefined)).toBeUndefined();
  });

  it.each(SIZES)("%i bytes: what it seals, `age -d` and the portable reader open; what `age` and the portable writer seal, it opens", async (size) => {
    const plain = randomBytes(size, size + 1);
    for (const cuts of CUTS) {
      const sealed = concat(await encrypt(native, plain, cuts));
      expect(sha256(ageCli(["-d", "-i", keyFile], sealed))).toBe(sha256(plain));
      expect(sha256(concat(await decrypt(portable, sealed, cuts)))).toBe(sha256(plain));
      for (const written of [ageCli(["-r", recipient], plain), concat(await encrypt(portable, plain, cuts))]) {
        expect(sha256(concat(await decrypt(native, written, cuts)))).toBe(sha256(plain));
      }
    }
  });

  it("is the one used with the native codec: it hands on chunks in batches of 16 (1 MiB), where the portable cipher hands on each 64 KiB chunk", async () => {
    const plain = randomBytes(4 * 1024 * 1024);
    const [header, ...sealed] = await encrypt(native, plain, [KiB64]);
    expect(new TextDecoder().decode(header!.subarray(0, 22))).toBe("age-encryption.org/v1\n");
    // 64 chunks, the last of them full: age ends on a full last chunk, not on an empty one after it.
    expect(sealed.map((c) => c.byteLength)).toEqual([16 * SEALED, 16 * SEALED, 16 * SEALED, 16 * SEALED]);
    expect(Math.max(...(await encrypt(portable, plain)).map((c) => c.byteLength))).toBe(SEALED);
    const opened = await decrypt(native, concat([header!, ...sealed]), [SEALED]);
    expect(opened.map((c) => c.byteLength)).toEqual([16 * KiB64, 16 * KiB64, 16 * KiB64, 16 * KiB64]);
    expect(sha256(concat(opened))).toBe(sha256(plain));
  });

  it("takes 2 MiB of the compressor's output before the header is ready, so compression works on while age-encryption loads", async () => {
    const writer = age.encode!(native, options({ recipients: [recipient] })).writable.getWriter();
    for (let i = 0; i < 31; i++) void writer.write(new Uint8Array(KiB64)).catch(() => undefined);
    expect(writer.desiredSize).toBeGreaterThan(0);
    await writer.abort(new Error("done"));
    // Counted in bytes, not chunks: a source stored uncompressed hands on 1 MiB chunks.
    const uncompressed = age.encode!(native, options({ recipients: [recipient] })).writable.getWriter();
    for (let i = 0; i < 4; i++) void uncompressed.write(new Uint8Array(1024 * 1024)).catch(() => undefined);
    expect(uncompressed.desiredSize).toBeLessThanOrEqual(0);
    await uncompressed.abort(new Error("done"));
  });

  it("a passphrase-encrypted file (written by the portable path) opens natively, and a wrong one is wrong-passphrase", async () => {
    const plain = randomBytes(200_000);
    const sealed = concat(await chunks(piecewise(plain, [1 << 20]).pipeThrough(age.encode!(native, options({ passphrase: "correct horse battery" })))));
    expect(sha256(concat(await decrypt(native, sealed, [1 << 20], { passphrase: "correct horse battery" })))).toBe(sha256(plain));
    const error = await decrypt(native, sealed, [1 << 20], { passphrase: "incorrect horse" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error).toMatchObject({ reason: "wrong-passphrase" });
  }, 60_000);
});

describe("the native payload reader refuses damage with an error naming it", () => {
  const plain = randomBytes(3 * KiB64 + 100, 7);
  let sealed: Uint8Array;
  let payloadStart: number;
  beforeAll(async () => {
    sealed = ageCli(["-r", recipient], plain);
    payloadStart = Buffer.from(sealed).indexOf("\n", Buffer.from(sealed).indexOf("\n--- ") + 1) + 1 + 16;
  });
  const failure = (bytes: Uint8Array, cuts?: readonly number[]) => decrypt(native, bytes, cuts).then(() => "opened", (e: unknown) => e as Error);

  it.each([
    ["a flipped byte in the first chunk", () => flip(sealed, payloadStart + 10), /chunk 0 does not authenticate/],
    ["a flipped byte in the last chunk's tag", () => flip(sealed, sealed.byteLength - 1), /chunk 3 \(the last\) does not authenticate/],
    ["the last chunk dropped at a chunk boundary", () => sealed.subarray(0, payloadStart + 3 * SEALED), /chunk 2 \(the last\) does not authenticate/],
    ["the file cut inside a chunk", () => sealed.subarray(0, payloadStart + SEALED + 500), /chunk 1 \(the last\) does not authenticate/],
    ["the file cut inside the last chunk's tag", () => sealed.subarray(0, payloadStart + 3 * SEALED + 10), /shorter than its tag/],
    ["an empty last chunk appended after full ones", () => sealed.subarray(0, payloadStart + 3 * SEALED + 16), /(last chunk is empty|does not authenticate)/],
    ["two chunks swapped", () => swap(sealed, payloadStart, SEALED), /chunk 0 does not authenticate/],
    ["the file cut inside the header", () => sealed.subarray(0, 40), /ends inside its header/],
    ["the file cut inside the payload nonce", () => sealed.subarray(0, payloadStart - 3), /ends inside its header or payload nonce/],
    ["another base64 letter in the header's MAC", () => reletter(sealed, Buffer.from(sealed).indexOf("\n--- ") + 6), /invalid header HMAC/],
  ])("%s", async (_what, damage, message) => {
    for (const cuts of [[1 << 20], [SEALED], [333]]) {
      const error = await failure(damage(), cuts);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(message);
    }
  });

  it("no age header at all: refused once past the largest header it looks for", async () => {
    const error = await failure(randomBytes(1024 * 1024 + 64, 3), [64 * 1024]);
    expect((error as Error).message).toMatch(/no age header end within/);
  });

  it("a wrong identity is the DecryptionError wrong-identity, before any payload byte", async () => {
    const error = await decrypt(native, sealed, [1 << 20], { identities: [await generateIdentity()] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error).toMatchObject({ reason: "wrong-identity" });
  });
});

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at]! ^= 1;
  return out;
}

function reletter(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at] = out[at] === 0x41 ? 0x42 : 0x41;
  return out;
}

function swap(bytes: Uint8Array, start: number, size: number): Uint8Array {
  const out = bytes.slice();
  out.set(bytes.subarray(start + size, start + 2 * size), start);
  out.set(bytes.subarray(start, start + size), start + size);
  return out;
}
