/**
 * age encryption (age-encryption.org/v1, docs/FORMAT.md §1–§2): to recipients' public keys or to a
 * passphrase (scrypt), in authenticated 64 KiB chunks, so any change to the stored bytes, or a
 * dropped end, fails decryption. `age-encryption` is imported only when a backup is encrypted or
 * decrypted, so the bundle of a backupper without encryption does not carry it. With the native
 * codec the payload goes through `node:crypto` where that has ChaCha20-Poly1305 (./age-payload.ts),
 * and so does the header of a backup to X25519 recipients only (./age-header.ts): such a backup
 * never imports `age-encryption`. It writes every other header, reads every header, and seals and
 * opens the payload where the runtime has no native cipher.
 */
import { loadBuiltin } from "../../codec/builtin.js";
import type { Codec } from "../../codec/index.js";
import { DecryptionError } from "../../errors.js";
import { transformOf } from "../../util/streams.js";
import type { Stage } from "../stage.js";
import type { HeaderWriter } from "./age-header.js";
import type { NativePayload } from "./age-payload.js";

const NO_MATCH = "no identity matched any of the file's recipients";
/** Bytes of the compressor's output taken before the header is ready, whatever its chunks' size. */
const AHEAD = { highWaterMark: 2 * 1024 * 1024, size: (chunk: Uint8Array) => chunk.byteLength };

let payload: Promise<NativePayload | undefined> | undefined;
let header: Promise<HeaderWriter | undefined> | undefined;

/**
 * The native payload cipher when the codec is native and the runtime has one (`codec: "portable"`
 * keeps everything in age-encryption). Its own chunk, like age-encryption: a bundle without
 * encryption does not carry it.
 */
const nativePayload = (codec: Codec) =>
  codec.name === "native" ? (payload ??= Promise.all([loadBuiltin("node:crypto"), import("./age-payload.js")]).then(([crypto, { nativePayloadOn }]) => nativePayloadOn(crypto))) : undefined;

/** The native header writer, where `node:crypto` has X25519: loaded by the first encrypted backup, never by a restore. */
const nativeHeader = () => (header ??= Promise.all([loadBuiltin("node:crypto"), import("./age-header.js")]).then(([crypto, { x25519HeaderOn }]) => x25519HeaderOn(crypto)));

export const age: Stage = {
  name: "age",
  keySuffix: ".age",
  contentType: "application/octet-stream",
  meta: { encryption: "age" },
  format: "backupper/2",
  hidesOriginal: true,
  magic: new TextEncoder().encode("age-encryption.org/v1\n"),
  encode(codec, { encryption }) {
    // While age-encryption loads and writes the header (~0.1 s on Node), the compressor works on into this buffer.
    const ahead = new TransformStream<Uint8Array, Uint8Array>(undefined, AHEAD);
    const sealed = transformOf(async (input) => {
      // A passphrase's file key never reaches a recipient: getting it back would cost a second scrypt (~1 s), more than the portable payload of most backups.
      const cipher = encryption.passphrase === undefined ? await nativePayload(codec) : undefined;
      const written = cipher && (await nativeHeader())?.(encryption.recipients);
      if (written) return input.pipeThrough(cipher.seal(written.fileKey, written.prefix));
      const { Encrypter } = await import("age-encryption");
      const encrypter = new Encrypter();
      if (encryption.passphrase !== undefined) encrypter.setPassphrase(encryption.passphrase);
      for (const recipient of encryption.recipients) encrypter.addRecipient(recipient);
      return cipher?.encrypt(encrypter, input) ?? encrypter.encrypt(input);
    });
    return { writable: ahead.writable, readable: ahead.readable.pipeThrough(sealed) };
  },
  decode: (codec, { encryption }, key) =>
    transformOf(async (input) => {
      if (encryption.passphrase === undefined && encryption.identities.length === 0) {
        await input.cancel();
        throw new DecryptionError(key, "no-key");
      }
      const { Decrypter } = await import("age-encryption");
      const decrypter = new Decrypter();
      // Tried first and never matching, it learns what the header is encrypted to, so a failure can say which key is wrong.
      let passphraseEncrypted = false;
      decrypter.addIdentity({
        unwrapFileKey(stanzas) {
          passphraseEncrypted = stanzas.some((stanza) => stanza.args[0] === "scrypt");
          return null;
        },
      });
      for (const identity of encryption.identities) decrypter.addIdentity(identity);
      if (encryption.passphrase !== undefined) decrypter.addPassphrase(encryption.passphrase);
      try {
        return await ((await nativePayload(codec))?.decrypt(decrypter, input) ?? decrypter.decrypt(input));
      } catch (error) {
        if ((error as Error | undefined)?.message !== NO_MATCH) throw error;
        throw new DecryptionError(key, passphraseEncrypted ? "wrong-passphrase" : "wrong-identity", { cause: error });
      }
    }),
};
