/**
 * The header of an age file to X25519 recipients (age-encryption.org/v1, "Header" and "X25519
 * recipient type"; docs/FORMAT.md §1) on `node:crypto`, with the payload nonce that follows it.
 * Where the payload is sealed natively (./age-payload.ts), an encrypted backup then never loads
 * age-encryption: its import and its first X25519 in JavaScript cost a backup 80-90 ms on Node 24
 * (bench/PROFILE.md, "Encryption"), a quarter of a 64 MiB zstd backup. Every other recipient (a
 * passphrase, a post-quantum key) stays age-encryption's. Like age-payload.ts this module imports
 * nothing of the library's, so bundlers keep it out of a backupper without encryption: with
 * util/streams' `concat` instead of the few `set` calls here, esbuild split that module into a
 * chunk of its own and the eager bundle grew by 313 bytes (bench/bundle-size.mjs).
 */
import { bech32Decode } from "./bech32.js";

const VERSION_LINE = "age-encryption.org/v1\n";
const X25519_LABEL = new TextEncoder().encode("age-encryption.org/v1/X25519");
const HEADER_LABEL = new TextEncoder().encode("header");
const FILE_KEY = 16;
const NONCE = 16;
/** DER of a SubjectPublicKeyInfo for an X25519 key (RFC 8410), up to the 32 key bytes. */
const SPKI_PREFIX = new Uint8Array([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00]);

type KeyObject = { export(options: { format: "der"; type: "spki" }): Uint8Array };

/** The part of `node:crypto` used here. */
interface CryptoModule {
  generateKeyPairSync(type: "x25519"): { publicKey: KeyObject; privateKey: KeyObject };
  createPublicKey(key: { key: Uint8Array; format: "der"; type: "spki" }): KeyObject;
  diffieHellman(keys: { privateKey: KeyObject; publicKey: KeyObject }): Uint8Array;
  hkdfSync(digest: "sha256", ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): ArrayBuffer;
  createCipheriv(algorithm: "chacha20-poly1305", key: Uint8Array, iv: Uint8Array, options: { authTagLength: 16 }): {
    update(data: Uint8Array): Uint8Array;
    final(): Uint8Array;
    getAuthTag(): Uint8Array;
  };
  createHmac(algorithm: "sha256", key: Uint8Array): { update(data: Uint8Array): { digest(): Uint8Array } };
}

export interface AgeHeader {
  fileKey: Uint8Array;
  /** The header through its MAC line, then the payload nonce: what the sealed payload follows. */
  prefix: Uint8Array;
}

/** Writes headers for `recipients` (`age1…`), or says undefined when one is not a plain X25519 key. */
export type HeaderWriter = (recipients: readonly string[]) => AgeHeader | undefined;

/** The header writer on `crypto` (what `node:crypto` the caller found), or undefined where it lacks X25519. */
export function x25519HeaderOn(crypto: unknown): HeaderWriter | undefined {
  return crypto && works(crypto as CryptoModule) ? headerWriter(crypto as CryptoModule) : undefined;
}

function works(crypto: CryptoModule): boolean {
  try {
    const { publicKey, privateKey } = crypto.generateKeyPairSync("x25519");
    return crypto.diffieHellman({ privateKey, publicKey }).byteLength === 32 && rawKey(publicKey).byteLength === 32;
  } catch {
    return false;
  }
}

const rawKey = (key: KeyObject) => new Uint8Array(key.export({ format: "der", type: "spki" })).subarray(SPKI_PREFIX.byteLength);

/** Standard base64 without padding, as age writes every binary field. */
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/=+$/, "");

function headerWriter(crypto: CryptoModule): HeaderWriter {
  /** The stanza that gives `fileKey` to the holder of the secret key of `recipient` (32 raw bytes). */
  const stanza = (recipient: Uint8Array, fileKey: Uint8Array): string => {
    const spki = new Uint8Array(SPKI_PREFIX.byteLength + 32);
    spki.set(SPKI_PREFIX);
    spki.set(recipient, SPKI_PREFIX.byteLength);
    const ephemeral = crypto.generateKeyPairSync("x25519");
    const share = rawKey(ephemeral.publicKey);
    // A low-order point gives the all-zero secret, which the spec forbids using: OpenSSL refuses to
    // derive it, other implementations return it.
    let shared: Uint8Array | undefined;
    let cause: unknown;
    try {
      shared = crypto.diffieHellman({ privateKey: ephemeral.privateKey, publicKey: crypto.createPublicKey({ key: spki, format: "der", type: "spki" }) });
    } catch (error) {
      cause = error;
    }
    if (!shared || shared.every((byte) => byte === 0)) {
      throw new Error("cannot encrypt to an age recipient whose X25519 key is a low-order point (no shared secret)", { cause });
    }
    const salt = new Uint8Array(64);
    salt.set(share);
    salt.set(recipient, 32);
    const wrapKey = new Uint8Array(crypto.hkdfSync("sha256", shared, salt, X25519_LABEL, 32));
    const cipher = crypto.createCipheriv("chacha20-poly1305", wrapKey, new Uint8Array(12), { authTagLength: 16 });
    const body = new Uint8Array(FILE_KEY + 16);
    body.set(cipher.update(fileKey));
    cipher.final();
    body.set(cipher.getAuthTag(), FILE_KEY);
    // A 32-byte body is one base64 line of 43 characters: shorter than 64, so it ends the stanza.
    return `-> X25519 ${base64(share)}\n${base64(body)}\n`;
  };

  return (recipients) => {
    const keys = recipients.map((recipient) => bech32Decode(recipient, "age"));
    if (keys.length === 0 || !keys.every((key) => key?.byteLength === 32)) return undefined;
    const fileKey = globalThis.crypto.getRandomValues(new Uint8Array(FILE_KEY));
    const encoder = new TextEncoder();
    const header = encoder.encode(`${VERSION_LINE}${keys.map((key) => stanza(key!, fileKey)).join("")}---`);
    const mac = crypto.createHmac("sha256", new Uint8Array(crypto.hkdfSync("sha256", fileKey, new Uint8Array(0), HEADER_LABEL, 32))).update(header).digest();
    const macLine = encoder.encode(` ${base64(new Uint8Array(mac))}\n`);
    const prefix = new Uint8Array(header.byteLength + macLine.byteLength + NONCE);
    prefix.set(header);
    prefix.set(macLine, header.byteLength);
    globalThis.crypto.getRandomValues(prefix.subarray(header.byteLength + macLine.byteLength));
    return { fileKey, prefix };
  };
}
