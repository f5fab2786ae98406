/**
 * fflate's streaming `Gunzip` inflates single and multi-member input but never checks a
 * member's trailer, so a truncated trailer or a corrupted byte that still inflates would
 * pass silently. This engine adds what `gunzip` checks: each member's CRC-32 and length
 * (ISIZE) against its trailer, and that there was any input at all.
 */

import { Gunzip } from "fflate";
import { crc32, type Crc32 } from "./crc32.js";
import type { Engine } from "./step-transform.js";

/**
 * Recent input kept to read a member's trailer once fflate reports where the next member
 * begins (only after that member's header is complete). Headers longer than this (a
 * FEXTRA field or file name of tens of KiB) are refused rather than left unchecked.
 */
const KEEP = 64 * 1024 + 1024;
const EMPTY = new Uint8Array(0);

export function checkedGunzip(emit: (piece: Uint8Array) => void): Engine {
  const recent: { start: number; bytes: Uint8Array }[] = [];
  let received = 0;
  let crc: Crc32 = crc32();
  let size = 0;

  const inputAt = (start: number, length: number): Uint8Array => {
    const out = new Uint8Array(length);
    for (const { start: s, bytes } of recent) {
      const from = Math.max(start, s);
      const to = Math.min(start + length, s + bytes.length);
      if (from < to) out.set(bytes.subarray(from - s, to - s), from - start);
    }
    if (recent.length === 0 || recent[0]!.start > start) {
      throw new Error("gzip member header too long to verify the previous member's trailer");
    }
    return out;
  };

  const checkMember = (end: number) => {
    if (end < 8) throw new Error("gzip data truncated: missing trailer");
    const trailer = new DataView(inputAt(end - 8, 8).buffer);
    if (trailer.getUint32(0, true) !== crc.value()) {
      throw new Error("gzip data corrupt: CRC-32 mismatch (or truncated trailer)");
    }
    if (trailer.getUint32(4, true) !== size % 2 ** 32) {
      throw new Error("gzip data corrupt: length mismatch (or truncated trailer)");
    }
    crc = crc32();
    size = 0;
  };

  const inflater = new Gunzip((data) => {
    crc.update(data);
    size += data.length;
    emit(data);
  });
  inflater.onmember = (offset) => checkMember(offset);

  return {
    write(chunk) {
      if (chunk.length === 0) return;
      recent.push({ start: received, bytes: chunk });
      received += chunk.length;
      inflater.push(chunk);
      while (recent.length > 1 && recent[1]!.start <= received - KEEP) recent.shift();
    },
    end() {
      if (received === 0) throw new Error("gzip data truncated: empty input");
      inflater.push(EMPTY, true);
      checkMember(received);
    },
  };
}
