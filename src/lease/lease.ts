/**
 * One writer per source: a backup first takes the lease object (docs/FORMAT.md §6) with a
 * conditional put, renews it while it runs, and gives it up at the end. Every write of the
 * object is conditional (`If-None-Match: *` to create it, `If-Match` on the etag last seen
 * to change it), so of two processes racing at most one holds it, and a holder can never
 * overwrite a lease someone else took.
 *
 * - Taking: create it; if it exists and has expired (or cannot be read as a lease), replace it
 *   with `If-Match` on the etag just read; if it exists and has not expired: `LeaseHeldError`.
 * - Renewing: once a third of the ttl has passed, `If-Match` on the etag of our last write. A renewal that finds
 *   another etag means the lease was taken over: lost. One that keeps failing (storage down)
 *   is given up while the lease is still ours, before `expires`: lost too. Lost aborts `lost`.
 * - Releasing: written back with `expires` = now, `If-Match` on our etag, rather than deleted:
 *   a delete cannot be made conditional on every storage, and an unconditional one could
 *   remove a lease that another process took after ours expired. The next backup takes the
 *   released lease over like an expired one.
 *
 * A put retried after a lost answer can report a precondition failure for a write that
 * happened (`StorageAdapter.putIf`): every failed condition is followed by a read, and a lease
 * that holds exactly what we wrote is ours. Expiry compares the holder's clock with the
 * taker's: hosts sharing a lease need clocks within a small fraction of the ttl (NTP).
 */
import { LeaseHeldError, messageOf } from "../errors.js";
import type { GuardedStorage } from "../storage/guard.js";
import { hostFacts } from "../codec/host.js";
import { readAll } from "../util/streams.js";
import { encodeLease, LEASE_FORMAT, parseLease, type LeaseRecord } from "./record.js";

/** A lease object is a few hundred bytes; anything far larger is not one. */
const MAX_LEASE_BYTES = 64 * 1024;
/** Races lost in a row (someone else creating or taking it between our read and our write) before giving up. */
const MAX_ROUNDS = 5;

export interface HeldLease {
  /** Aborted, with a `LeaseHeldError` of `lost: true` as its reason, once the lease is lost. */
  readonly lost: AbortSignal;
  /** Renews now, so the lease is certainly ours for a whole ttl; rejects with the loss if it is not. */
  confirm(): Promise<void>;
  /** Stops renewing and gives the lease up if it is still ours. Never rejects. */
  release(): Promise<void>;
}

interface Seen {
  etag: string;
  record: LeaseRecord | undefined;
}

/** 24 hex digits, as docs/FORMAT.md §6 gives the holder id: not `randomId()`'s key id, which is shorter and base 36. */
const randomHolder = () => Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");

async function read(storage: GuardedStorage, key: string, signal: AbortSignal | undefined): Promise<Seen | null> {
  const got = await storage.get(key, signal);
  if (got === null) return null;
  const bytes = await readAll(got.body, MAX_LEASE_BYTES).catch((error: unknown) => {
    if (error instanceof RangeError) return new Uint8Array(0);
    throw error;
  });
  return { etag: got.etag!, record: parseLease(bytes) };
}

function heldBy(key: string, record: LeaseRecord): LeaseHeldError {
  const who = [record.host, record.pid === undefined ? undefined : `pid ${record.pid}`].filter(Boolean).join(" ");
  return new LeaseHeldError(key, `the lease ${key} is held${who ? ` by ${who}` : ""} until ${record.expires}: another process is backing up this source`, {
    lost: false,
    holder: { ...(record.host === undefined ? {} : { host: record.host }), ...(record.pid === undefined ? {} : { pid: record.pid }), expires: record.expires },
  });
}

export async function takeLease(
  storage: GuardedStorage,
  key: string,
  opts: { name: string; ttl: number; signal?: AbortSignal },
): Promise<HeldLease> {
  const { ttl, signal } = opts;
  const acquired = new Date();
  const base = { format: LEASE_FORMAT, name: opts.name, holder: randomHolder(), ...(await hostFacts()), acquired: acquired.toISOString() };
  const recordAt = (at: number, expires: number): LeaseRecord => ({ ...base, renewed: new Date(at).toISOString(), expires: new Date(expires).toISOString() });
  const ours = (seen: Seen | null, wrote: LeaseRecord) => seen?.record?.holder === wrote.holder && seen.record.renewed === wrote.renewed;

  /** Writes `record` on `condition`; the etag now held, or undefined when the condition failed and the object is not what we wrote. */
  const write = async (record: LeaseRecord, condition: Parameters<GuardedStorage["putIf"]>[2], s: AbortSignal | undefined) => {
    const result = await storage.putIf(key, encodeLease(record), condition, { signal: s, contentType: "application/json" });
    if (result.written) return { etag: result.etag, seen: undefined };
    const seen = await read(storage, key, s);
    return { etag: ours(seen, record) ? seen!.etag : undefined, seen };
  };

  let etag: string | undefined;
  let record = recordAt(acquired.getTime(), acquired.getTime() + ttl);
  let attempt = await write(record, { ifNoneMatch: "*" }, signal);
  for (let round = 1; attempt.etag === undefined; round++) {
    const seen = attempt.seen;
    const now = Date.now();
    if (seen?.record && Date.parse(seen.record.expires) > now) throw heldBy(key, seen.record);
    if (round >= MAX_ROUNDS) throw new LeaseHeldError(key, `the lease ${key} changed hands ${round} times while this process tried to take it`, { lost: false });
    record = recordAt(now, now + ttl);
    attempt = await write(record, seen ? { ifMatch: seen.etag } : { ifNoneMatch: "*" }, signal);
  }
  etag = attempt.etag;
  let expires = Date.parse(record.expires);

  const loss = new AbortController();
  const lose = (why: string, cause?: unknown) => {
    if (!loss.signal.aborted) loss.abort(new LeaseHeldError(key, `lost the lease ${key}: ${why}; the backup was abandoned`, { lost: true, cause }));
  };
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;
  let failure: unknown;

  /** One renewal, bounded so that it ends while the lease is still ours. */
  const renewOnce = async (): Promise<void> => {
    if (loss.signal.aborted || stopped) return;
    const now = Date.now();
    const limit = Math.max(0, Math.floor(expires - now - ttl / 10));
    const timeout = AbortSignal.timeout(limit);
    try {
      const next = recordAt(now, now + ttl);
      const attempt = await write(next, { ifMatch: etag! }, timeout);
      if (attempt.etag === undefined) {
        const by = attempt.seen?.record;
        lose(by ? `it was taken over${by.host ? ` by ${by.host}` : ""}` : "it was removed");
        return;
      }
      etag = attempt.etag;
      expires = Date.parse(next.expires);
      failure = undefined;
    } catch (error) {
      failure = error;
      // Still ours until `expires`: another attempt may get through, unless it would come too late.
      const why = timeout.aborted ? `no answer within ${limit} ms` : messageOf(error);
      if (expires - Date.now() <= ttl / 3) lose(`it could not be renewed before it expired (${why})`, error);
    }
  };
  const renew = () => (chain = chain.then(renewOnce));
  // Timed from the expiry, not from when the take returned: a slow first put has used up part of the ttl already.
  let ticker: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    if (stopped || loss.signal.aborted) return;
    const delay = failure === undefined ? expires - (2 * ttl) / 3 - Date.now() : ttl / 6;
    ticker = setTimeout(() => void renew().then(schedule), Math.max(0, delay));
    (ticker as { unref?: () => void }).unref?.();
  };
  schedule();

  return {
    lost: loss.signal,
    async confirm() {
      await renew();
      // A commit needs the lease for longer than the write of one small object takes.
      if (expires - Date.now() < ttl / 2) lose(`it could not be renewed before the commit (${messageOf(failure)})`, failure);
      if (loss.signal.aborted) throw loss.signal.reason;
    },
    async release() {
      stopped = true;
      clearTimeout(ticker);
      await chain;
      if (loss.signal.aborted) return;
      const now = Date.now();
      const released = { ...recordAt(now, now), released: new Date(now).toISOString() };
      // Bounded: an unreachable storage must not hold up the end of a backup; the lease then simply expires.
      const signal = AbortSignal.timeout(ttl);
      await storage.putIf(key, encodeLease(released), { ifMatch: etag! }, { signal, contentType: "application/json" }).catch(() => undefined);
    },
  };
}
