/**
 * The lease object (docs/FORMAT.md §6): `<prefix><name>.lease`, a small JSON document saying who
 * holds the right to write backups of `name` and until when. It names no secret: a random holder
 * id, the host and pid for the humans reading it, and times.
 */
import type { HostFacts } from "../codec/host.js";

export const LEASE_FORMAT = "backupper-lease/1";

export interface LeaseRecord extends HostFacts {
  format: string;
  name: string;
  /** Random per take: tells this holder's writes from everyone else's, also across restarts on one host. */
  holder: string;
  acquired: string;
  /** When this holder last wrote it (taking, renewing or releasing): tells its own writes apart. */
  renewed: string;
  /** Until when it is held; anyone may take it over once this time has passed. */
  expires: string;
  /** Set when the holder gave it up; `expires` is then that time. */
  released?: string;
}

export function leaseKey(prefix: string, name: string): string {
  return `${prefix}${name}.lease`;
}

export function encodeLease(record: LeaseRecord): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`);
}

/**
 * The record in `bytes`, or undefined when they are not a lease this version can read. Only
 * `holder` and `expires` are relied on, so a later format that keeps them is still respected.
 */
export function parseLease(bytes: Uint8Array): LeaseRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  const record = value as Partial<LeaseRecord> | null;
  if (typeof record !== "object" || record === null) return undefined;
  if (typeof record.holder !== "string" || typeof record.expires !== "string" || Number.isNaN(Date.parse(record.expires))) return undefined;
  return record as LeaseRecord;
}
