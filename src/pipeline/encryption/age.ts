/**
 * age encryption (age-encryption.org/v1, docs/FORMAT.md §1–§2): to recipients' public keys or to a
 * passphrase (scrypt), in authenticated 64 KiB chunks, so any change to the stored bytes, or a
 * dropped end, fails decryption. `age-encryption` is imported only when a backup is encrypted or
 * decrypted, so the bundle of a backupper without encryption does not carry it. It writes and
 * reads every header; with the native codec the payload goes through `node:crypto` where that has
 * ChaCha20-Poly1305 (./age-payload.ts), else through `age-encryption` too.
 */
import type { Encrypter } from "age-encryption";
import type { Codec } from "../../codec/index.js";
import { DecryptionError } from "../../errors.js";
import { readAll, streamOf, transformOf } from "../../util/streams.js";
import type { Stage } from "../stage.js";
import { loadNativePayload, type NativePayload } from "./age-payload.js";

const NO_MATCH = "no identity matched any of the file's recipients";
const TAG = 16;
const NONCE = 16;
/** More than any header age-encryption writes to the recipients a backupper takes. */
const MAX_PREFIX = 1024 * 1024;

/** The native payload cipher when the codec is native and the runtime has one; `codec: "portable"` keeps everything in `age-encryption`. */
const nativePayload = (codec: Codec): Promise<NativePayload | undefined> => (codec.name === "native" ? loadNativePayload() : Promise.resolve(undefined));

export const age: Stage = {
  name: "age",
  keySuffix: ".age",
  contentType: "application/octet-stream",
  meta: { encryption: "age" },
  format: "backupper/2",
  hidesOriginal: true,
  magic: new TextEncoder().encode("age-encryption.org/v1\n"),
  encode: (codec, { encryption }) =>
    transformOf(async (input) => {
      const { Encrypter } = await import("age-encryption");
      const encrypter = new Encrypter();
      if (encryption.passphrase !== undefined) encrypter.setPassphrase(encryption.passphrase);
      for (const recipient of encryption.recipients) encrypter.addRecipient(recipient);
      // A passphrase's file key never reaches a recipient: getting it back would cost a second scrypt (~1 s), more than the portable payload of most backups.
      const payload = encryption.passphrase === undefined ? await nativePayload(codec) : undefined;
      return payload ? input.pipeThrough(await sealedNatively(encrypter, payload)) : encrypter.encrypt(input);
    }),
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
      const named = (error: unknown) =>
        (error as Error | undefined)?.message === NO_MATCH ? new DecryptionError(key, passphraseEncrypted ? "wrong-passphrase" : "wrong-identity", { cause: error }) : error;
      const payload = await nativePayload(codec);
      if (payload) return input.pipeThrough(payload.open((header) => decrypter.decryptHeader(header).catch((error: unknown) => Promise.reject(named(error)))));
      try {
        return await decrypter.decrypt(input);
      } catch (error) {
        throw named(error);
      }
    }),
};

/**
 * The header `age-encryption` writes for the file's recipients, with the native payload after it.
 * A recipient that wraps nothing learns the file key; `age-encryption` encrypting an empty file
 * gives the header and payload nonce, then the empty last chunk's tag, which the native cipher
 * must reproduce: the proof that both derive the same payload key and nonces.
 */
async function sealedNatively(encrypter: Encrypter, payload: NativePayload): Promise<TransformStream<Uint8Array, Uint8Array>> {
  let fileKey: Uint8Array | undefined;
  encrypter.addRecipient({
    wrapFileKey(key) {
      fileKey = key;
      return [];
    },
  });
  // As a stream: for bytes, age-encryption reads its output with `new Response`, which costs Node ~35 ms to load undici.
  const empty = await readAll(await encrypter.encrypt(streamOf(new Uint8Array(0))), MAX_PREFIX);
  const prefix = empty.subarray(0, empty.byteLength - TAG);
  const tag = payload.emptyTag(fileKey!, prefix.subarray(prefix.byteLength - NONCE));
  if (!tag.every((byte, i) => byte === empty[prefix.byteLength + i])) throw new Error("native age payload cipher disagrees with age-encryption's");
  return payload.seal(fileKey!, prefix);
}
