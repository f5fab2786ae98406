/**
 * age's payload (age-encryption.org/v1, "Payload"; docs/FORMAT.md §1) on `node:crypto`'s
 * ChaCha20-Poly1305, where the runtime has it (Node, Deno; not Bun 1.4, which has no such cipher):
 * several times faster than the pure-JS cipher of `age-encryption`, which stays the header's
 * writer and reader and the payload's fallback. The payload is the 16-byte nonce, then the
 * plaintext in 64 KiB chunks, each sealed under HKDF-SHA-256(file key, salt = nonce, "payload")
 * with a 12-byte nonce: an 11-byte big-endian chunk counter and a last-chunk flag byte. Only the
 * last chunk may be short, and it is empty only when the whole plaintext is.
 */
import type { Decrypter, Encrypter } from "age-encryption";

const CHUNK = 64 * 1024;
const TAG = 16;
const SEALED = CHUNK + TAG;
const NONCE = 16;
/** 16 sealed chunks: 1 MiB. */
const BATCH = 16;
const ALGORITHM = "chacha20-poly1305";
const PAYLOAD_LABEL = new TextEncoder().encode("payload");
/** Where the header's MAC line starts; nothing else in a header can begin a line with `---`. */
const MAC_LINE = new TextEncoder().encode("\n--- ");
/** Far more than any real header (a post-quantum stanza is ~1.6 KiB): past this, the input is no age file. */
const MAX_HEADER = 1024 * 1024;

interface AeadCipher {
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
}

/** The part of `node:crypto` used here. */
interface CryptoModule {
  createCipheriv(algorithm: typeof ALGORITHM, key: SecretKey, iv: Uint8Array, options: { authTagLength: number }): AeadCipher & { getAuthTag(): Uint8Array };
  createDecipheriv(algorithm: typeof ALGORITHM, key: SecretKey, iv: Uint8Array, options: { authTagLength: number }): AeadCipher & { setAuthTag(tag: Uint8Array): void };
  hkdfSync(digest: "sha256", ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): ArrayBuffer;
  createSecretKey(key: Uint8Array): SecretKey;
}

/** A `node:crypto` KeyObject: made once per file, so each chunk's cipher does not import the key again. */
type SecretKey = object;

/** The native payload cipher. */
export interface NativePayload {
  /** `input` as an age file to the recipients of `encrypter`, which writes the header. */
  encrypt(encrypter: Encrypter, input: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>>;
  /**
   * The age file `input` decrypted, its header read by `decrypter`: as `decrypter.decrypt`, it
   * rejects when the header does not open (no identity matches, a bad MAC) before returning the
   * plaintext stream; a damaged or cut payload errors that stream.
   */
  decrypt(decrypter: Decrypter, input: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>>;
  /**
   * Encrypts a stream into an age file: `prefix` (the header and the payload nonce, as
   * `age-encryption` or ./age-header.ts wrote them for `fileKey`) first, then the sealed chunks.
   */
  seal(fileKey: Uint8Array, prefix: Uint8Array): TransformStream<Uint8Array, Uint8Array>;
  /**
   * Decrypts a whole age file. `unlock` gets the header (through its MAC line) and returns the
   * file key, or throws (a wrong key, a bad MAC); a damaged or cut payload errors the stream.
   */
  open(unlock: (header: Uint8Array) => Promise<Uint8Array>): TransformStream<Uint8Array, Uint8Array>;
}

/**
 * The native payload cipher on `crypto` (what `node:crypto` the caller found: this module imports
 * nothing of the library's, so bundlers keep it in a chunk of its own), or undefined where it
 * lacks ChaCha20-Poly1305 or HKDF.
 */
export function nativePayloadOn(crypto: unknown): NativePayload | undefined {
  return crypto && works(crypto as CryptoModule) ? nativePayload(crypto as CryptoModule) : undefined;
}

function works(crypto: CryptoModule): boolean {
  try {
    const zeros = new Uint8Array(32);
    const cipher = crypto.createCipheriv(ALGORITHM, crypto.createSecretKey(zeros), zeros.subarray(0, 12), { authTagLength: TAG });
    cipher.final();
    return cipher.getAuthTag().byteLength === TAG && crypto.hkdfSync("sha256", zeros, zeros, PAYLOAD_LABEL, 32).byteLength === 32;
  } catch {
    return false;
  }
}

function nativePayload(crypto: CryptoModule): NativePayload {
  const payloadKey = (fileKey: Uint8Array, nonce: Uint8Array) => crypto.createSecretKey(new Uint8Array(crypto.hkdfSync("sha256", fileKey, nonce, PAYLOAD_LABEL, 32)));

  /** Seals `plain` as chunk `counter` into `out` at `at`; returns where the next one goes. */
  const sealChunk = (key: SecretKey, counter: Uint8Array, last: boolean, plain: Uint8Array, out: Uint8Array, at: number) => {
    counter[11] = last ? 1 : 0;
    const cipher = crypto.createCipheriv(ALGORITHM, key, counter, { authTagLength: TAG });
    out.set(cipher.update(plain), at);
    cipher.final();
    out.set(cipher.getAuthTag(), at + plain.byteLength);
    increment(counter);
    return at + plain.byteLength + TAG;
  };

  const openChunk = (key: SecretKey, counter: Uint8Array, last: boolean, sealed: Uint8Array, out: Uint8Array, at: number) => {
    counter[11] = last ? 1 : 0;
    const length = sealed.byteLength - TAG;
    const decipher = crypto.createDecipheriv(ALGORITHM, key, counter, { authTagLength: TAG });
    decipher.setAuthTag(sealed.subarray(length));
    const plain = decipher.update(sealed.subarray(0, length));
    try {
      decipher.final();
    } catch (error) {
      throw new Error(`age payload chunk ${chunkNumber(counter)}${last ? " (the last)" : ""} does not authenticate: the ciphertext was changed, cut or reordered`, { cause: error });
    }
    out.set(plain, at);
    increment(counter);
    return at + length;
  };

  return {
    /**
     * A recipient that wraps nothing learns the file key; `encrypter` encrypting an empty file
     * gives the header and payload nonce, then the empty last chunk's tag, which the native
     * cipher must reproduce: the proof that both derive the same payload key and nonces.
     */
    async encrypt(encrypter, input) {
      let fileKey: Uint8Array | undefined;
      encrypter.addRecipient({
        wrapFileKey(key) {
          fileKey = key;
          return [];
        },
      });
      // As a stream: for bytes, age-encryption reads its output with `new Response`, which costs Node ~35 ms to load undici.
      const reader = (await encrypter.encrypt(new ReadableStream<Uint8Array>({ start: (controller) => controller.close() }))).getReader();
      let empty: Uint8Array = new Uint8Array(0);
      for (let read = await reader.read(); !read.done; read = await reader.read()) empty = append(empty, read.value);
      const prefix = empty.subarray(0, empty.byteLength - TAG);
      const tag = new Uint8Array(TAG);
      sealChunk(payloadKey(fileKey!, prefix.subarray(prefix.byteLength - NONCE)), new Uint8Array(12), true, new Uint8Array(0), tag, 0);
      if (!tag.every((byte, i) => byte === empty[prefix.byteLength + i])) throw new Error("native age payload cipher disagrees with age-encryption's");
      return input.pipeThrough(this.seal(fileKey!, prefix));
    },

    async decrypt(decrypter, input) {
      let opened!: () => void;
      let unopened!: (error: unknown) => void;
      const header = new Promise<void>((resolve, reject) => ((opened = resolve), (unopened = reject)));
      const output = input.pipeThrough(
        this.open((bytes) =>
          decrypter.decryptHeader(bytes).then(
            (fileKey) => (opened(), fileKey),
            (error: unknown) => (unopened(error), Promise.reject(error)),
          ),
        ),
      );
      // Reading drives the header through; what is read waits in the stream for the caller.
      const reader = output.getReader();
      const first = reader.read();
      first.catch(unopened);
      await header;
      let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined = first;
      return new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            const read = await (pending ?? reader.read());
            pending = undefined;
            if (read.done) controller.close();
            else controller.enqueue(read.value);
          },
          cancel: (reason) => reader.cancel(reason),
        },
        { highWaterMark: 0 },
      );
    },

    seal(fileKey, prefix) {
      const key = payloadKey(fileKey, prefix.subarray(prefix.byteLength - NONCE));
      const counter = new Uint8Array(12);
      const chunker = rechunk(CHUNK, (piece, last, out, at) => sealChunk(key, counter, last, piece, out, at), TAG);
      return new TransformStream({
        start: (controller) => controller.enqueue(prefix),
        transform: (chunk, controller) => chunker.write(chunk, controller),
        flush: (controller) => chunker.end(controller),
      });
    },

    open(unlock) {
      let head: Uint8Array | undefined = new Uint8Array(0);
      let chunker: Rechunker | undefined;
      let opened = 0;
      const counter = new Uint8Array(12);
      const start = async (bytes: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>) => {
        head = append(head!, bytes);
        const end = headerEnd(head);
        if (end === undefined || head.byteLength < end + NONCE) {
          if (head.byteLength > MAX_HEADER + NONCE) throw new Error(`no age header end within the first ${MAX_HEADER} bytes`);
          return;
        }
        const fileKey = await unlock(head.subarray(0, end));
        const key = payloadKey(fileKey, head.subarray(end, end + NONCE));
        const rest = head.subarray(end + NONCE);
        head = undefined;
        chunker = rechunk(SEALED, (sealed, last, out, at) => {
          if (last && sealed.byteLength < TAG) throw new Error(`age payload ends in a chunk of ${sealed.byteLength} bytes, shorter than its tag: the file was cut`);
          if (last && sealed.byteLength === TAG && opened > 0) throw new Error("age payload's last chunk is empty after full ones: the file was cut or extended");
          opened++;
          return openChunk(key, counter, last, sealed, out, at);
        }, -TAG);
        chunker.write(rest, controller);
      };
      return new TransformStream({
        transform: (chunk, controller) => (chunker ? chunker.write(chunk, controller) : start(chunk, controller)),
        flush(controller) {
          if (!chunker) throw new Error("age file ends inside its header or payload nonce: the file was cut");
          chunker.end(controller);
        },
      });
    },
  };
}

interface Rechunker {
  write(chunk: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>): void;
  end(controller: TransformStreamDefaultController<Uint8Array>): void;
}

/**
 * Cuts a stream into pieces of `size` bytes (the last one shorter, or empty) and passes each to
 * `each` to transform into `out` at `at`, `grow` bytes longer than the piece. The final piece is
 * only known as such at the end, so a full piece is held back until a byte after it arrives.
 * Pieces are views of the input where they lie whole inside one chunk; only the ends are copied.
 * Output goes out in batches of `BATCH` pieces: the codec hands on 64 KiB chunks, and every chunk
 * costs each later stage (hashing, the adapter's write) a call of its own.
 */
function rechunk(size: number, each: (piece: Uint8Array, last: boolean, out: Uint8Array, at: number) => number, grow: number): Rechunker {
  const pending = new Uint8Array(size);
  let used = 0;
  let out: Uint8Array | undefined;
  let at = 0;
  const place = (piece: Uint8Array, last: boolean, controller: TransformStreamDefaultController<Uint8Array>) => {
    out ??= new Uint8Array(BATCH * (size + grow));
    at = each(piece, last, out, at);
    if (last || at + size + grow > out.byteLength) {
      controller.enqueue(at === out.byteLength ? out : out.subarray(0, at));
      out = undefined;
      at = 0;
    }
  };
  return {
    write(chunk, controller) {
      let offset = 0;
      if (used + chunk.byteLength > size && used > 0) {
        offset = size - used;
        pending.set(chunk.subarray(0, offset), used);
        place(pending, false, controller);
        used = 0;
      }
      for (; chunk.byteLength - offset > size; offset += size) place(chunk.subarray(offset, offset + size), false, controller);
      pending.set(chunk.subarray(offset), used);
      used += chunk.byteLength - offset;
    },
    end(controller) {
      place(pending.subarray(0, used), true, controller);
    },
  };
}

/** The length of the header at the start of `bytes` (through its MAC line's newline), if all there. */
function headerEnd(bytes: Uint8Array): number | undefined {
  const mac = indexOf(bytes, MAC_LINE);
  if (mac < 0) return undefined;
  const newline = bytes.indexOf(0x0a, mac + MAC_LINE.byteLength);
  return newline < 0 ? undefined : newline + 1;
}

function indexOf(bytes: Uint8Array, pattern: Uint8Array): number {
  for (let i = bytes.indexOf(pattern[0]!); i >= 0 && i + pattern.byteLength <= bytes.byteLength; i = bytes.indexOf(pattern[0]!, i + 1)) {
    if (pattern.every((byte, k) => bytes[i + k] === byte)) return i;
  }
  return -1;
}

function append(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b;
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

/** The 11-byte big-endian chunk counter in bytes 0–10 of the nonce. */
function increment(counter: Uint8Array): void {
  for (let i = 10; i >= 0; i--) {
    counter[i] = (counter[i]! + 1) & 0xff;
    if (counter[i] !== 0) return;
  }
  throw new Error("age payload chunk counter overflowed");
}

function chunkNumber(counter: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < 11; i++) n = n * 256 + counter[i]!;
  return n;
}
