/**
 * `backupper/testing`: the conformance suite for `StorageAdapter`s, the one every adapter in
 * this package passes. It checks the contract stated in the `StorageAdapter` doc comments:
 *
 * - bytes round-trip exactly: every byte value from a `Uint8Array`, a large random body (12 MiB
 *   by default, more than two 5 MiB multipart parts) from a stream of odd-sized chunks, empty
 *   objects from an empty buffer and an empty stream; `size` (when given) and listed sizes match;
 * - a put replaces (also with a shorter object), and stored bytes are apart from the caller's
 *   buffers and from the chunks a reader got;
 * - a missing key reads as `null`; deleting missing keys, no keys, or several at once succeeds;
 * - `list` takes a plain string prefix (`foo` matches `foo/x` and `foobar`, not `fo`), lists an
 *   unused prefix as empty, and lists past one page (1100 keys by default), each key once;
 * - awkward keys (spaces, `+ & % = ? #`, `%20`, unicode, emoji, nesting) store, list and read back;
 * - a put whose body stream errors rejects with a `BackupError` and leaves no object behind
 *   (and the previous object intact);
 * - an aborted signal, before or during a put, and before a get, list or delete, rejects with a
 *   `BackupError` of code `ABORTED`, writes nothing and releases the body stream;
 * - a reader can cancel a get midway and read the object again;
 * - where the adapter has the optional conditional put (`putIf`): `ifNoneMatch` creates only a
 *   missing object, `ifMatch` replaces only the version whose etag it names (the one `get`
 *   reports), and of puts racing on one condition exactly one is written.
 *
 * The suite needs no test runner and only Web APIs (no `node:` modules), so it runs wherever
 * the adapter does: Node, Bun, Deno, Workers. `adapterConformance(setup)` returns named async
 * checks to hand to your runner; `runConformance(setup)` runs them all and returns a report.
 * A failing check rejects with a `ConformanceError` naming the check, the key, and the expected
 * and actual values. `setup` runs once: in `suite.setup()` (a `beforeAll` hook), or else before
 * the first check. Each check then works under its own fresh key prefix and removes what it
 * wrote; `suite.cleanup()` (an `afterAll` hook) calls the `cleanup` that `setup` returned.
 * Checks are independent, so a runner may run any subset, in any order, one at a time.
 *
 * vitest or `bun test`:
 * ```ts
 * import { afterAll, beforeAll, describe, it } from "vitest"; // or "bun:test"
 * import { adapterConformance } from "backupper/testing";
 *
 * describe("myAdapter conformance", () => {
 *   const suite = adapterConformance(async () => ({ adapter: myAdapter(), cleanup: async () => {} }));
 *   beforeAll(suite.setup);
 *   afterAll(suite.cleanup);
 *   for (const check of suite.checks) it(check.name, check.run, check.timeout);
 * });
 * ```
 *
 * `node:test`:
 * ```js
 * import { after, before, test } from "node:test";
 * import { adapterConformance } from "backupper/testing";
 *
 * const suite = adapterConformance(() => ({ adapter: myAdapter() }));
 * before(suite.setup);
 * after(suite.cleanup);
 * for (const check of suite.checks) test(check.name, { timeout: check.timeout }, check.run);
 * ```
 *
 * Deno: `for (const check of suite.checks) Deno.test(check.name, check.run);`, then call
 * `suite.cleanup()` from a last test. Anywhere else (a script, a Worker's fetch handler):
 * `const report = await runConformance(setup); if (!report.ok) …`.
 */

import { BackupError } from "./errors.js";
import { concat } from "./util/streams.js";
import type { Body, ListEntry, StorageAdapter } from "./types.js";

export interface ConformanceSetup {
  adapter: StorageAdapter;
  /** Called once by `suite.cleanup()` (e.g. to remove a bucket or directory the setup made). */
  cleanup?: () => Promise<void>;
}

export interface ConformanceOptions {
  /** Keys written for the listing check; more than one S3 list page (1000) by default: 1100. */
  manyKeys?: number;
  /** Size in bytes of the streamed round trip; more than two 5 MiB multipart parts by default: 12 MiB. */
  largeBytes?: number;
}

export interface ConformanceCheck {
  /** What the check asserts, e.g. `"returns null for a missing key"`: use it as the test name. */
  readonly name: string;
  /** A generous limit in milliseconds for a remote storage: pass it to your runner (`runConformance` enforces it). */
  readonly timeout: number;
  /** Runs the check (setting the adapter up first if no check has yet); rejects with a `ConformanceError` on failure. */
  readonly run: () => Promise<void>;
}

export interface ConformanceSuite {
  readonly checks: readonly ConformanceCheck[];
  /**
   * Runs `setup` now (at most once), so that its time counts against a `beforeAll`/`before`
   * hook rather than the first check; rejects with its error. Optional: the first check sets up otherwise.
   */
  readonly setup: () => Promise<void>;
  /** Calls the setup's `cleanup` if setup ran (for an `afterAll`/`after` hook); a later check sets up afresh. */
  readonly cleanup: () => Promise<void>;
}

export interface ConformanceReport {
  /** True when every check passed. */
  ok: boolean;
  passed: string[];
  failed: Array<{ name: string; error: unknown }>;
}

/** A failed conformance check. `message` names the check and says what was expected and what happened. */
export class ConformanceError extends Error {
  override name = "ConformanceError";
  /** Name of the failed check. */
  readonly check: string;
  /** The key the failing assertion was about, when there is one. */
  readonly key: string | undefined;
  readonly expected: unknown;
  readonly actual: unknown;

  constructor(check: string, detail: string, info: ConformanceErrorInfo = {}) {
    const lines = [`StorageAdapter conformance check "${check}" failed: ${detail}`];
    if (info.key !== undefined) lines.push(`  key:      ${JSON.stringify(info.key)}`);
    if ("expected" in info) lines.push(`  expected: ${show(info.expected)}`);
    if ("actual" in info) lines.push(`  actual:   ${show(info.actual)}`);
    if (info.diff !== undefined) lines.push(`  ${info.diff}`);
    super(lines.join("\n"), info.cause === undefined ? undefined : { cause: info.cause });
    this.check = check;
    this.key = info.key;
    this.expected = info.expected;
    this.actual = info.actual;
  }
}

/** What a `ConformanceError` reports besides the check: the key, expected and actual values, a list difference, the cause. */
export interface ConformanceErrorInfo {
  key?: string;
  expected?: unknown;
  actual?: unknown;
  diff?: string;
  cause?: unknown;
}

/** An assertion failure inside a check; the check's runner turns it into a `ConformanceError` naming the check. */
class Failure extends Error {
  constructor(
    readonly detail: string,
    readonly info: ConformanceErrorInfo = {},
  ) {
    super(detail);
  }
}

const MiB = 1024 * 1024;
const DEFAULT_TIMEOUT = 120_000;
/** How long an adapter may take to settle a put after its signal aborts. */
const ABORT_SETTLE_MS = 15_000;

/** Chunk sizes that line up with no power of two, so chunk boundaries never coincide with part or buffer boundaries. */
const ODD_CHUNKS = [1, 7, 4093, 65_537, 1_000_003, 3, 262_147];

/** Keys that break naive URL, query-string, form or path encoding. */
const AWKWARD_NAMES = [
  "with space",
  "plus+sign",
  "amp&ersand",
  "per%cent",
  "per%20cent",
  "eq=uals",
  "ques?tion",
  "hash#tag",
  "ü-umlaut",
  "日本",
  "emoji-🎉",
  "a/b/c",
];

type CheckBody = (adapter: StorageAdapter, prefix: string) => Promise<void>;

/**
 * The conformance checks for the adapter `setup` makes. `setup` runs once: in `suite.setup()`
 * when you call it (a `beforeAll`/`before` hook), else before the first check that runs; call
 * `suite.cleanup()` after the last (an `afterAll`/`after` hook).
 */
export function adapterConformance(
  setup: () => ConformanceSetup | Promise<ConformanceSetup>,
  options: ConformanceOptions = {},
): ConformanceSuite {
  const manyKeys = options.manyKeys ?? 1100;
  const largeBytes = options.largeBytes ?? 12 * MiB;
  const runId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  let runs = 0;
  let ready: Promise<ConformanceSetup> | undefined;

  const setUp = (): Promise<ConformanceSetup> => {
    ready ??= Promise.resolve()
      .then(setup)
      .then((done) => {
        if (typeof done?.adapter?.put !== "function") {
          throw new TypeError(`setup() must resolve to { adapter, cleanup? } with a StorageAdapter, not ${show(done)}`);
        }
        return done;
      });
    return ready;
  };

  const adapterFor = async (check: string): Promise<StorageAdapter> => {
    try {
      return (await setUp()).adapter;
    } catch (error) {
      throw new ConformanceError(check, `setup() rejected: ${show(error)}`, { cause: error });
    }
  };

  const define = (name: string, body: CheckBody, timeout = DEFAULT_TIMEOUT): ConformanceCheck => ({
    name,
    timeout,
    run: async () => {
      const adapter = await adapterFor(name);
      runs += 1;
      const prefix = `conformance-${runId}/${runs}/`;
      let failure: unknown;
      try {
        await body(adapter, prefix);
      } catch (error) {
        failure = error;
      }
      try {
        const left = await listAll(adapter, prefix);
        if (left.length > 0) await adapter.delete(left.map((entry) => entry.key));
      } catch (error) {
        failure ??= new Failure(`removing what the check wrote under ${JSON.stringify(prefix)} failed: ${show(error)}`, {
          cause: error,
        });
      }
      if (failure !== undefined) throw toConformanceError(name, failure);
    },
  });

  const checks: ConformanceCheck[] = [
    define("round-trips every byte value from a Uint8Array body", async (adapter, prefix) => {
      const key = `${prefix}binary`;
      const bytes = new Uint8Array(4 * 256).map((_, i) => i % 256);
      const result: unknown = await adapter.put(key, bytes);
      assert(typeof result === "object" && result !== null, "put must resolve to an object ({ etag? })", { key, actual: result });
      const got = await getExisting(adapter, key);
      if (got.size !== undefined) equal(got.size, bytes.byteLength, "size reported by get", key);
      sameBytes(await readAll(got.body), bytes, key);
    }),

    define(`round-trips ${largeBytes} random bytes from a stream of odd-sized chunks`, async (adapter, prefix) => {
      const key = `${prefix}large`;
      const bytes = randomBytes(largeBytes);
      await adapter.put(key, chunkedStream(bytes));
      const got = await getExisting(adapter, key);
      if (got.size !== undefined) equal(got.size, largeBytes, "size reported by get", key);
      sameBytes(await readAll(got.body), bytes, key);
      equal(keysAndSizes(await listAll(adapter, key)), [{ key, size: largeBytes }], `entries listed under ${JSON.stringify(key)}`);
    }),

    define("stores empty objects from an empty buffer and from an empty stream", async (adapter, prefix) => {
      await adapter.put(`${prefix}empty-bytes`, new Uint8Array(0));
      await adapter.put(`${prefix}empty-stream`, chunkedStream(new Uint8Array(0)));
      for (const key of [`${prefix}empty-bytes`, `${prefix}empty-stream`]) {
        const got = await getExisting(adapter, key);
        equal((await readAll(got.body)).byteLength, 0, "number of bytes read back", key);
      }
      equal(
        keysAndSizes(await listAll(adapter, prefix)),
        [
          { key: `${prefix}empty-bytes`, size: 0 },
          { key: `${prefix}empty-stream`, size: 0 },
        ],
        `entries listed under ${JSON.stringify(prefix)}`,
      );
    }),

    define("replaces an object on put, including with a shorter one", async (adapter, prefix) => {
      const key = `${prefix}replaced`;
      await adapter.put(key, utf8("the first, longer version"));
      await adapter.put(key, utf8("second"));
      equal(await getText(adapter, key), "second", "text read back", key);
      equal(keysAndSizes(await listAll(adapter, prefix)), [{ key, size: 6 }], `entries listed under ${JSON.stringify(prefix)}`);
    }),

    define("keeps stored bytes apart from the caller's buffers", async (adapter, prefix) => {
      const key = `${prefix}copied`;
      const input = utf8("original");
      await adapter.put(key, input);
      input.fill(0);
      const first = await getExisting(adapter, key);
      for (const chunk of await chunksOf(first.body)) chunk.fill(0);
      equal(await getText(adapter, key), "original", "text read back after zeroing the put buffer and the chunks read", key);
    }),

    define("returns null for a missing key", async (adapter, prefix) => {
      for (const key of [`${prefix}missing`, `${prefix}missing/deeper`]) await expectMissing(adapter, key, "get of a key never written");
    }),

    define("lists an unused prefix as empty", async (adapter, prefix) => {
      const unused = `${prefix}nothing-here/`;
      equal(keysAndSizes(await listAll(adapter, unused)), [], `entries listed under ${JSON.stringify(unused)}`);
    }),

    define("deletes missing keys, no keys, and several keys at once", async (adapter, prefix) => {
      await adapter.delete([`${prefix}never-written`]);
      await adapter.delete([]);
      await adapter.put(`${prefix}one`, utf8("1"));
      await adapter.put(`${prefix}two/nested`, utf8("2"));
      await adapter.put(`${prefix}kept`, utf8("3"));
      await adapter.delete([`${prefix}one`, `${prefix}missing`, `${prefix}two/nested`]);
      for (const key of [`${prefix}one`, `${prefix}two/nested`]) await expectMissing(adapter, key, "get after delete");
      equal(await keysOf(adapter, prefix), [`${prefix}kept`], `keys listed under ${JSON.stringify(prefix)} after delete`);
    }),

    define("lists by plain string prefix: foo matches foo/x and foobar, not fo", async (adapter, prefix) => {
      for (const name of ["foo/x", "foo/y/z", "foobar", "fo"]) await adapter.put(prefix + name, utf8(name));
      const cases: Array<[string, string[]]> = [
        ["foo", ["foo/x", "foo/y/z", "foobar"]],
        ["foo/", ["foo/x", "foo/y/z"]],
        ["fo", ["fo", "foo/x", "foo/y/z", "foobar"]],
        ["foo/y/z", ["foo/y/z"]],
      ];
      for (const [listed, expected] of cases) {
        equal(
          await keysOf(adapter, prefix + listed),
          expected.map((name) => prefix + name),
          `keys listed under ${JSON.stringify(prefix + listed)}`,
        );
      }
    }),

    define(`lists ${manyKeys} keys, each exactly once, with their sizes`, async (adapter, prefix) => {
      const keys = Array.from({ length: manyKeys }, (_, i) => `${prefix}many/${String(i).padStart(6, "0")}`);
      await inParallel(keys, 16, (key, i) => adapter.put(key, new Uint8Array(i % 7)));
      const listed = await listAll(adapter, `${prefix}many/`);
      const seen = new Map<string, ListEntry[]>();
      for (const entry of listed) seen.set(entry.key, [...(seen.get(entry.key) ?? []), entry]);
      const twice = [...seen.entries()].filter(([, entries]) => entries.length > 1).map(([key]) => key);
      assert(twice.length === 0, `list yielded ${twice.length} keys more than once`, { actual: twice });
      equal(listed.length, manyKeys, `number of entries listed under ${JSON.stringify(`${prefix}many/`)}`, undefined, () =>
        listDiff(
          listed.map((entry) => entry.key),
          keys,
        ),
      );
      for (const [i, key] of keys.entries()) equal(seen.get(key)?.[0]?.size, i % 7, "listed size", key);
      await adapter.delete(keys);
      equal(await keysOf(adapter, `${prefix}many/`), [], `keys listed under ${JSON.stringify(`${prefix}many/`)} after deleting them all`);
    }),

    define("stores, lists and reads keys with spaces, + & % = ? #, unicode and nesting", async (adapter, prefix) => {
      const keys = AWKWARD_NAMES.map((name) => prefix + name);
      for (const key of keys) await adapter.put(key, utf8(key));
      for (const key of keys) equal(await getText(adapter, key), key, "text read back", key);
      equal(await keysOf(adapter, prefix), [...keys].sort(compare), `keys listed under ${JSON.stringify(prefix)}`);
      for (const name of ["with space", "plus+", "per%20", "日本", "emoji-🎉", "a/b/"]) {
        equal(
          await keysOf(adapter, prefix + name),
          keys.filter((key) => key.startsWith(prefix + name)),
          `keys listed under ${JSON.stringify(prefix + name)}`,
        );
      }
      await adapter.delete(keys);
      equal(await keysOf(adapter, prefix), [], `keys listed under ${JSON.stringify(prefix)} after deleting them all`);
    }),

    define("reports sizes in list that match the stored bytes", async (adapter, prefix) => {
      const sizes = [0, 1, 1000, 70_000];
      for (const size of sizes) await adapter.put(`${prefix}size-${size}`, randomBytes(size));
      const listed = await listAll(adapter, prefix);
      equal(
        keysAndSizes(listed),
        sizes.map((size) => ({ key: `${prefix}size-${size}`, size })).sort((a, b) => compare(a.key, b.key)),
        `entries listed under ${JSON.stringify(prefix)}`,
      );
      for (const entry of listed) {
        if (entry.lastModified === undefined) continue;
        const time = typeof entry.lastModified?.getTime === "function" ? entry.lastModified.getTime() : Number.NaN;
        assert(!Number.isNaN(time), "lastModified, when given, must be a valid Date", { key: entry.key, actual: entry.lastModified });
      }
    }),

    define("rejects a put whose body stream fails midway, leaving no object and the previous one intact", async (adapter, prefix) => {
      const failAfter = Math.floor(largeBytes * 0.75);
      await adapter.put(`${prefix}existing`, utf8("previous"));
      for (const key of [`${prefix}existing`, `${prefix}fresh`]) {
        const error = await rejection(adapter.put(key, failingStream(failAfter, new Error("source broke"))), "put of a body stream that errors", key);
        assert(BackupError.is(error), "put of a body stream that errors must reject with a BackupError", {
          key,
          expected: "a BackupError",
          actual: error,
          cause: error,
        });
      }
      equal(await getText(adapter, `${prefix}existing`), "previous", "text read back after a failed replacing put", `${prefix}existing`);
      await expectMissing(adapter, `${prefix}fresh`, "get after a failed put");
      equal(await keysOf(adapter, prefix), [`${prefix}existing`], `keys listed under ${JSON.stringify(prefix)}`);
    }),

    define("rejects a put with an already-aborted signal with ABORTED and writes nothing", async (adapter, prefix) => {
      const key = `${prefix}aborted`;
      const signal = AbortSignal.abort(new Error("cancelled by test"));
      for (const [kind, body] of [
        ["bytes", utf8("bytes")],
        ["stream", chunkedStream(utf8("stream"))],
      ] as Array<[string, Body]>) {
        await expectAborted(adapter.put(key, body, { signal }), `put of a ${kind} body with an aborted signal`, key);
      }
      await expectMissing(adapter, key, "get after aborted puts");
      equal(keysAndSizes(await listAll(adapter, prefix)), [], `entries listed under ${JSON.stringify(prefix)}`);
    }),

    define(
      "rejects a put aborted while its body is streaming, cancels the body and writes nothing",
      async (adapter, prefix) => {
        await adapter.put(`${prefix}existing`, utf8("previous"));
        for (const key of [`${prefix}existing`, `${prefix}fresh`]) {
          const controller = new AbortController();
          const body = stallingStream(64 * 1024);
          const put = settle(adapter.put(key, body.stream, { signal: controller.signal }));
          await within(
            Promise.race([body.stalled, put]),
            ABORT_SETTLE_MS,
            "put did not read its stream body past the first chunk",
            key,
          );
          controller.abort(new Error("cancelled by test"));
          // An adapter that ignores the signal never settles: fail fast, with a reason, instead of at a runner's timeout.
          const outcome = await within(put, ABORT_SETTLE_MS, `put did not settle within ${ABORT_SETTLE_MS} ms of its signal aborting`, key);
          checkAborted(outcome, "put aborted while streaming", key);
          // The producer must be released, not left waiting for a read that never comes.
          await new Promise((resolve) => setTimeout(resolve, 0));
          assert(body.cancelled(), "an aborted put must cancel its body stream", { key, expected: "cancelled", actual: "not cancelled" });
        }
        equal(await getText(adapter, `${prefix}existing`), "previous", "text read back after an aborted replacing put", `${prefix}existing`);
        await expectMissing(adapter, `${prefix}fresh`, "get after an aborted put");
      },
      30_000,
    ),

    define("rejects get, list and delete with an already-aborted signal with ABORTED", async (adapter, prefix) => {
      const key = `${prefix}present`;
      await adapter.put(key, utf8("x"));
      const signal = AbortSignal.abort();
      await expectAborted(adapter.get(key, { signal }), "get with an aborted signal", key);
      await expectAborted(listAll(adapter, prefix, signal), `list(${JSON.stringify(prefix)}) with an aborted signal`);
      await expectAborted(adapter.delete([key], { signal }), "delete with an aborted signal", key);
      equal(await getText(adapter, key), "x", "text read back after an aborted delete", key);
    }),

    define("lets a reader cancel a get midway and read the object again", async (adapter, prefix) => {
      const key = `${prefix}partial`;
      const bytes = randomBytes(3 * MiB);
      await adapter.put(key, bytes);
      const first = await getExisting(adapter, key);
      const reader = first.body.getReader();
      equal((await reader.read()).done, false, "done flag of the first read of a 3 MiB object", key);
      await reader.cancel();
      const again = await getExisting(adapter, key);
      sameBytes(await readAll(again.body), bytes, key);
    }),

    // The optional conditional put (`putIf`): an adapter without it passes these as not applicable.
    define("conditional put: ifNoneMatch creates only when there is no object, and get reports its etag", async (adapter, prefix) => {
      if (!adapter.putIf) return;
      const key = `${prefix}lease`;
      const first = await adapter.putIf(key, utf8("first"), { ifNoneMatch: "*" });
      assert(first.written && typeof first.etag === "string" && first.etag !== "", "a create of a missing key must be written with an etag", { key, actual: first });
      equal(await adapter.putIf(key, utf8("second"), { ifNoneMatch: "*" }), { written: false }, "result of ifNoneMatch on an existing key", key);
      const got = await getExisting(adapter, key);
      equal(got.etag, first.etag, "etag reported by get", key);
      equal(new TextDecoder().decode(await readAll(got.body)), "first", "text read back", key);
    }),

    define("conditional put: ifMatch replaces only the version it names", async (adapter, prefix) => {
      if (!adapter.putIf) return;
      const key = `${prefix}lease`;
      equal(await adapter.putIf(key, utf8("x"), { ifMatch: '"no-such-etag"' }), { written: false }, "result of ifMatch on a missing key", key);
      const first = await adapter.putIf(key, utf8("one"), { ifNoneMatch: "*" });
      assert(first.written, "create of a missing key must be written", { key, actual: first });
      equal(await adapter.putIf(key, utf8("x"), { ifMatch: '"no-such-etag"' }), { written: false }, "result of ifMatch with a wrong etag", key);
      const second = await adapter.putIf(key, utf8("two"), { ifMatch: first.etag });
      assert(second.written && second.etag !== first.etag, "ifMatch on the current etag must write, with a new etag", { key, actual: second });
      equal(await adapter.putIf(key, utf8("three"), { ifMatch: first.etag }), { written: false }, "result of ifMatch on a replaced version", key);
      equal(await getText(adapter, key), "two", "text read back", key);
      await adapter.put(key, utf8("plain"));
      equal(await adapter.putIf(key, utf8("four"), { ifMatch: second.etag }), { written: false }, "result of ifMatch after a plain put replaced it", key);
    }),

    define("conditional put: of 8 racing puts on one condition exactly one is written", async (adapter, prefix) => {
      if (!adapter.putIf) return;
      for (const round of ["create", "replace"] as const) {
        const key = `${prefix}race-${round}`;
        const base = round === "replace" ? await adapter.putIf(key, utf8("base"), { ifNoneMatch: "*" }) : undefined;
        const condition = base?.written ? { ifMatch: base.etag } : ({ ifNoneMatch: "*" } as const);
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => adapter.putIf!(key, utf8(`writer ${i}`), condition)));
        const winners = results.flatMap((r, i) => (r.written ? [i] : []));
        equal(winners.length, 1, `writers whose ${round} was written`, key);
        equal(await getText(adapter, key), `writer ${winners[0]}`, "text read back: the winner's", key);
      }
    }),
  ];

  const cleanup = async (): Promise<void> => {
    const pending = ready;
    ready = undefined;
    if (pending === undefined) return;
    const done = await pending.catch(() => undefined);
    await done?.cleanup?.();
  };

  return {
    checks,
    setup: async () => {
      await setUp();
    },
    cleanup,
  };
}

/**
 * Runs every check of `adapterConformance(setup, options)` in order, each within its
 * `timeout`, then the cleanup. Resolves with a report (it rejects only if the cleanup does).
 */
export async function runConformance(
  setup: () => ConformanceSetup | Promise<ConformanceSetup>,
  options: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const suite = adapterConformance(setup, options);
  const report: ConformanceReport = { ok: true, passed: [], failed: [] };
  try {
    for (const check of suite.checks) {
      const timer = deadline(check.timeout);
      const finished = await Promise.race([settle(check.run()), timer.expired]).finally(timer.clear);
      if (finished?.ok === true) {
        report.passed.push(check.name);
      } else {
        const error = finished === undefined ? new ConformanceError(check.name, `did not finish within ${check.timeout} ms`) : finished.error;
        report.failed.push({ name: check.name, error });
      }
    }
  } finally {
    await suite.cleanup();
  }
  report.ok = report.failed.length === 0;
  return report;
}

/** Every entry under `prefix`, sorted by key (adapters list in no guaranteed order). */
export async function listAll(adapter: StorageAdapter, prefix: string, signal?: AbortSignal): Promise<ListEntry[]> {
  const entries: ListEntry[] = [];
  for await (const entry of adapter.list(prefix, { signal })) entries.push(entry);
  return entries.sort((a, b) => compare(a.key, b.key));
}

/** Reads a whole stream into one buffer. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return concat(await chunksOf(stream));
}

// ---- assertions -------------------------------------------------------------------------------

function toConformanceError(check: string, error: unknown): ConformanceError {
  if (error instanceof ConformanceError) return error;
  if (error instanceof Failure) return new ConformanceError(check, error.detail, error.info);
  return new ConformanceError(check, `the adapter threw unexpectedly: ${show(error)}`, { cause: error });
}

function assert(condition: boolean, detail: string, info?: ConformanceErrorInfo): asserts condition {
  if (!condition) throw new Failure(detail, info);
}

function equal(actual: unknown, expected: unknown, what: string, key?: string, diff?: () => string | undefined): void {
  if (same(actual, expected)) return;
  const info: ConformanceErrorInfo = { expected, actual, diff: diff?.() ?? (Array.isArray(actual) && Array.isArray(expected) ? listDiff(actual, expected) : undefined) };
  if (key !== undefined) info.key = key;
  throw new Failure(`wrong ${what}`, info);
}

/** Compares byte arrays without building a diff of megabytes; reports the first differing offset. */
function sameBytes(actual: Uint8Array, expected: Uint8Array, key: string): void {
  equal(actual.byteLength, expected.byteLength, "number of bytes read back", key);
  const first = actual.findIndex((byte, i) => byte !== expected[i]);
  if (first !== -1) {
    throw new Failure(`bytes read back differ from those stored, first at offset ${first}`, {
      key,
      expected: expected[first],
      actual: actual[first],
    });
  }
}

async function getExisting(adapter: StorageAdapter, key: string): Promise<{ body: ReadableStream<Uint8Array>; size?: number; etag?: string }> {
  const got = await adapter.get(key);
  if (got === null) throw new Failure("get of a key just written resolved null", { key, expected: "an object", actual: null });
  return got;
}

async function expectMissing(adapter: StorageAdapter, key: string, what: string): Promise<void> {
  const got = await adapter.get(key);
  if (got === null) return;
  discard(got);
  throw new Failure(`${what} must resolve null`, { key, expected: null, actual: got });
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

async function rejection(promise: Promise<unknown>, what: string, key?: string): Promise<unknown> {
  const outcome = await settle(promise);
  if (outcome.ok) throw new Failure(`${what} must reject`, { ...(key === undefined ? {} : { key }), expected: "a rejection", actual: outcome.value });
  return outcome.error;
}

async function expectAborted(promise: Promise<unknown>, what: string, key?: string): Promise<void> {
  checkAborted(await settle(promise), what, key);
}

function checkAborted(outcome: Settled<unknown>, what: string, key?: string): void {
  const info: ConformanceErrorInfo = key === undefined ? {} : { key };
  if (outcome.ok) throw new Failure(`${what} must reject with ABORTED`, { ...info, expected: "a BackupError with code ABORTED", actual: outcome.value });
  if (!BackupError.is(outcome.error, "ABORTED")) {
    throw new Failure(`${what} must reject with a BackupError of code ABORTED`, {
      ...info,
      expected: "a BackupError with code ABORTED",
      actual: outcome.error,
      cause: outcome.error,
    });
  }
}

/** `promise`'s value, or a failure saying `what` once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number, what: string, key: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Failure(`${what} (waited ${ms} ms)`, { key })), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A promise of `undefined` once `ms` have passed, and a way to stop it (so no timer outlives the run). */
function deadline(ms: number): { expired: Promise<undefined>; clear: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return { expired, clear: () => clearTimeout(timer) };
}

/** Releases the body of a get result the check does not read; tolerates a malformed result. */
function discard(got: unknown): void {
  try {
    const body = (got as { body?: { cancel?: () => Promise<void> } } | null)?.body;
    void Promise.resolve(body?.cancel?.()).catch(() => undefined);
  } catch {
    // A locked or malformed body: nothing to release.
  }
}

/** Structural equality of the plain values the checks compare (primitives, arrays, plain objects). */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => same(item, b[i]));
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object" || Array.isArray(a) || Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return keysA.length === keysB.length && keysA.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** For two lists: what is missing, unexpected or repeated, so a 1100-key mismatch reads in one line each. */
function listDiff(actual: readonly unknown[], expected: readonly unknown[]): string | undefined {
  const id = (v: unknown) => (typeof v === "string" ? v : show(v));
  const want = new Set(expected.map(id));
  const got = new Set(actual.map(id));
  const missing = [...want].filter((v) => !got.has(v));
  const unexpected = [...got].filter((v) => !want.has(v));
  const parts = [];
  if (missing.length > 0) parts.push(`missing (${missing.length}): ${show(missing)}`);
  if (unexpected.length > 0) parts.push(`unexpected (${unexpected.length}): ${show(unexpected)}`);
  if (got.size < actual.length) parts.push(`${actual.length - got.size} listed more than once`);
  return parts.length === 0 ? undefined : parts.join("; ");
}

/** A short, readable rendering of a value for a failure message. */
function show(value: unknown, depth = 0): string {
  if (value === null || value === undefined || typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (typeof value === "string") return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  if (typeof value === "function") return "[function]";
  if (value instanceof Uint8Array) return `Uint8Array(${value.byteLength})`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (value instanceof ReadableStream) return "ReadableStream";
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return `${value.name}${code === undefined ? "" : ` (code ${String(code)})`}: ${value.message}`;
  }
  if (depth > 2) return Array.isArray(value) ? "[…]" : "{…}";
  if (Array.isArray(value)) {
    const shown = value.slice(0, 10).map((item) => show(item, depth + 1));
    if (value.length > 10) shown.push(`… ${value.length - 10} more`);
    return `[${shown.join(", ")}]`;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}: ${show(v, depth + 1)}`);
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    return `${name && name !== "Object" ? `${name} ` : ""}{ ${entries.join(", ")} }`;
  }
  return String(value);
}

// ---- helpers ----------------------------------------------------------------------------------

function keysAndSizes(entries: readonly ListEntry[]): Array<{ key: string; size: number }> {
  return entries.map(({ key, size }) => ({ key, size }));
}

async function keysOf(adapter: StorageAdapter, prefix: string): Promise<string[]> {
  return (await listAll(adapter, prefix)).map((entry) => entry.key);
}

async function getText(adapter: StorageAdapter, key: string): Promise<string | null> {
  const got = await adapter.get(key);
  return got === null ? null : new TextDecoder().decode(await readAll(got.body));
}

/** Every chunk of a stream, as it arrived (to check an adapter keeps no chunk it was handed). */
export async function chunksOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  // getRandomValues fills at most 64 KiB per call.
  for (let offset = 0; offset < size; offset += 65_536) crypto.getRandomValues(bytes.subarray(offset, offset + 65_536));
  return bytes;
}

/** Serves copies of `bytes` in ODD_CHUNKS sizes, one chunk per pull. */
function chunkedStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  let turn = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= bytes.byteLength) {
          controller.close();
          return;
        }
        const end = Math.min(bytes.byteLength, offset + (ODD_CHUNKS[turn++ % ODD_CHUNKS.length] as number));
        controller.enqueue(bytes.slice(offset, end));
        offset = end;
      },
    },
    { highWaterMark: 0 },
  );
}

/** Serves `bytesBeforeError` random bytes in 1 MiB chunks, then errors. */
function failingStream(bytesBeforeError: number, error: Error): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= bytesBeforeError) {
          controller.error(error);
          return;
        }
        const chunk = randomBytes(Math.min(MiB, bytesBeforeError - sent));
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Serves one chunk, then never produces another: `stalled` resolves when the reader waits for more. */
function stallingStream(firstChunkBytes: number): {
  stream: ReadableStream<Uint8Array>;
  stalled: Promise<void>;
  cancelled: () => boolean;
} {
  let markStalled!: () => void;
  const stalled = new Promise<void>((resolve) => (markStalled = resolve));
  let pulls = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulls += 1;
        if (pulls === 1) {
          controller.enqueue(randomBytes(firstChunkBytes));
          return;
        }
        markStalled();
        return new Promise<void>(() => undefined);
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, stalled, cancelled: () => cancelled };
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
