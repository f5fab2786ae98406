/**
 * Bech32 (BIP 173) decoding, as age spells its X25519 recipients (`age1…`, age-encryption.org/v1,
 * "X25519 recipient type"). age sets no length limit of 90 characters, so none is applied here.
 */

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** BIP 173's checksum over the expanded prefix and the data words: 1 when they end in a valid checksum. */
export function polymod(values: readonly number[]): number {
  let check = 1;
  for (const value of values) {
    const top = check >>> 25;
    check = ((check & 0x1ffffff) << 5) ^ value;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) check ^= GENERATOR[i]!;
  }
  return check;
}

/**
 * The data of a lowercase Bech32 string with human-readable part `prefix`, or undefined when it
 * is not one: another prefix, a character outside the charset, a wrong checksum, or padding bits
 * that do not make whole bytes.
 */
export function bech32Decode(text: string, prefix: string): Uint8Array | undefined {
  const separator = text.lastIndexOf("1");
  if (text.slice(0, separator) !== prefix || text.length - separator - 1 < 6) return undefined;
  const words: number[] = [];
  for (const char of text.slice(separator + 1)) {
    const word = CHARSET.indexOf(char);
    if (word < 0) return undefined;
    words.push(word);
  }
  const expanded = [...prefix].map((c) => c.charCodeAt(0) >> 5);
  expanded.push(0, ...[...prefix].map((c) => c.charCodeAt(0) & 31));
  if (polymod([...expanded, ...words]) !== 1) return undefined;

  const bytes: number[] = [];
  let accumulator = 0;
  let bits = 0;
  for (const word of words.slice(0, -6)) {
    accumulator = (accumulator << 5) | word;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((accumulator >>> bits) & 0xff);
    }
  }
  if (bits >= 5 || (accumulator & ((1 << bits) - 1)) !== 0) return undefined;
  return new Uint8Array(bytes);
}
