/**
 * The one behaviour suite every StorageAdapter runs (the `StorageAdapter` contract in src/types.ts). Each adapter's test file
 * calls `describeAdapterConformance` with a setup that returns a ready adapter; each test
 * works under its own fresh key prefix and removes what it wrote.
 */

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BackupError } from "../../src/errors.js";
import { concat } from "../../src/streams.js";
import { chunksOf } from "../helpers/data.js";
import type { Body, ListEntry, StorageAdapter } from "../../src/types.js";

export interface ConformanceSetup {
  adapter: StorageAdapter;
  cleanup?: () => Promise<void>;
}

export interface ConformanceOptions {
  /** Keys written for the listing test; more than one S3 list page by default. */
  manyKeys?: number;
  /** Size of the streamed round trip; more than two 5 MiB multipart parts by default. */
  largeBytes?: number;
}

const MiB = 1024 * 1024;

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

export function describeAdapterConformance(
  label: string,
  setup: () => Promise<ConformanceSetup>,
  opts: ConformanceOptions = {},
): void {
  const manyKeys = opts.manyKeys ?? 1100;
  const largeBytes = opts.largeBytes ?? 12 * MiB;

  describe(`${label}: StorageAdapter conformance`, () => {
    const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    let ready: ConformanceSetup | undefined;
    let tests = 0;
    let prefix = "";

    const adapter = (): StorageAdapter => {
      if (ready === undefined) throw new Error("conformance setup did not complete");
      return ready.adapter;
    };

    beforeAll(async () => {
      ready = await setup();
    });
    afterAll(async () => {
      await ready?.cleanup?.();
    });
    beforeEach(() => {
      tests += 1;
      prefix = `conformance-${run}/${tests}/`;
    });
    afterEach(async () => {
      if (ready === undefined) return;
      const left = await listAll(adapter(), prefix);
      await adapter().delete(left.map((entry) => entry.key));
    });

    it("round-trips every byte value from a Uint8Array body", async () => {
      const bytes = new Uint8Array(4 * 256).map((_, i) => i % 256);
      expect(await adapter().put(`${prefix}binary`, bytes)).toBeTypeOf("object");
      const got = await adapter().get(`${prefix}binary`);
      expect(got).not.toBeNull();
      if (got?.size !== undefined) expect(got.size).toBe(bytes.byteLength);
      expectSameBytes(await readAll(got!.body), bytes);
    });

    it(`round-trips ${largeBytes} random bytes from a stream of odd-sized chunks`, async () => {
      const bytes = randomBytes(largeBytes);
      await adapter().put(`${prefix}large`, chunkedStream(bytes));
      const got = await adapter().get(`${prefix}large`);
      expect(got).not.toBeNull();
      if (got?.size !== undefined) expect(got.size).toBe(largeBytes);
      expectSameBytes(await readAll(got!.body), bytes);
      expect(await listAll(adapter(), `${prefix}large`)).toMatchObject([{ key: `${prefix}large`, size: largeBytes }]);
    });

    it("stores empty objects from an empty buffer and from an empty stream", async () => {
      await adapter().put(`${prefix}empty-bytes`, new Uint8Array(0));
      await adapter().put(`${prefix}empty-stream`, chunkedStream(new Uint8Array(0)));
      for (const key of [`${prefix}empty-bytes`, `${prefix}empty-stream`]) {
        const got = await adapter().get(key);
        expect(got, key).not.toBeNull();
        expect((await readAll(got!.body)).byteLength).toBe(0);
      }
      const listed = await listAll(adapter(), prefix);
      expect(listed.map(({ key, size }) => ({ key, size }))).toEqual([
        { key: `${prefix}empty-bytes`, size: 0 },
        { key: `${prefix}empty-stream`, size: 0 },
      ]);
    });

    it("replaces an object on put, including with a shorter one", async () => {
      const key = `${prefix}replaced`;
      await adapter().put(key, utf8("the first, longer version"));
      await adapter().put(key, utf8("second"));
      expect(await getText(adapter(), key)).toBe("second");
      expect(await listAll(adapter(), prefix)).toMatchObject([{ key, size: 6 }]);
    });

    it("keeps stored bytes apart from the caller's buffers", async () => {
      const key = `${prefix}copied`;
      const input = utf8("original");
      await adapter().put(key, input);
      input.fill(0);
      const first = await adapter().get(key);
      const chunks = await chunksOf(first!.body);
      for (const chunk of chunks) chunk.fill(0);
      expect(await getText(adapter(), key)).toBe("original");
    });

    it("returns null for a missing key", async () => {
      expect(await adapter().get(`${prefix}missing`)).toBeNull();
      expect(await adapter().get(`${prefix}missing/deeper`)).toBeNull();
    });

    it("lists an unused prefix as empty", async () => {
      expect(await listAll(adapter(), `${prefix}nothing-here/`)).toEqual([]);
    });

    it("deletes missing keys, no keys, and several keys at once", async () => {
      await adapter().delete([`${prefix}never-written`]);
      await adapter().delete([]);
      await adapter().put(`${prefix}one`, utf8("1"));
      await adapter().put(`${prefix}two/nested`, utf8("2"));
      await adapter().put(`${prefix}kept`, utf8("3"));
      await adapter().delete([`${prefix}one`, `${prefix}missing`, `${prefix}two/nested`]);
      expect(await adapter().get(`${prefix}one`)).toBeNull();
      expect(await adapter().get(`${prefix}two/nested`)).toBeNull();
      expect(await keysOf(adapter(), prefix)).toEqual([`${prefix}kept`]);
    });

    it("lists by plain string prefix: foo matches foo/x and foobar, not fo", async () => {
      for (const name of ["foo/x", "foo/y/z", "foobar", "fo"]) await adapter().put(prefix + name, utf8(name));
      expect(await keysOf(adapter(), `${prefix}foo`)).toEqual([`${prefix}foo/x`, `${prefix}foo/y/z`, `${prefix}foobar`]);
      expect(await keysOf(adapter(), `${prefix}foo/`)).toEqual([`${prefix}foo/x`, `${prefix}foo/y/z`]);
      expect(await keysOf(adapter(), `${prefix}fo`)).toEqual([`${prefix}fo`, `${prefix}foo/x`, `${prefix}foo/y/z`, `${prefix}foobar`]);
      expect(await keysOf(adapter(), `${prefix}foo/y/z`)).toEqual([`${prefix}foo/y/z`]);
    });

    it(`lists ${manyKeys} keys, each exactly once, with their sizes`, async () => {
      const keys = Array.from({ length: manyKeys }, (_, i) => `${prefix}many/${String(i).padStart(6, "0")}`);
      await inParallel(keys, 16, (key, i) => adapter().put(key, new Uint8Array(i % 7)));
      const listed = await listAll(adapter(), `${prefix}many/`);
      const seen = new Map<string, number>();
      for (const entry of listed) seen.set(entry.key, (seen.get(entry.key) ?? 0) + 1);
      expect(listed.length).toBe(manyKeys);
      expect([...seen.values()].every((count) => count === 1)).toBe(true);
      for (const [i, key] of keys.entries()) {
        expect(listed.find((entry) => entry.key === key)?.size, key).toBe(i % 7);
      }
      await adapter().delete(keys);
      expect(await listAll(adapter(), `${prefix}many/`)).toEqual([]);
    });

    it("stores, lists and reads keys with spaces, + & % = ? #, unicode and nesting", async () => {
      const keys = AWKWARD_NAMES.map((name) => prefix + name);
      for (const key of keys) await adapter().put(key, utf8(key));
      for (const key of keys) expect(await getText(adapter(), key), key).toBe(key);
      expect(await keysOf(adapter(), prefix)).toEqual([...keys].sort());
      for (const name of ["with space", "plus+", "per%20", "日本", "emoji-🎉", "a/b/"]) {
        expect(await keysOf(adapter(), prefix + name), name).toEqual(keys.filter((key) => key.startsWith(prefix + name)));
      }
      await adapter().delete(keys);
      expect(await listAll(adapter(), prefix)).toEqual([]);
    });

    it("reports sizes in list that match the stored bytes", async () => {
      const sizes = [0, 1, 1000, 70_000];
      for (const size of sizes) await adapter().put(`${prefix}size-${size}`, randomBytes(size));
      const listed = await listAll(adapter(), prefix);
      expect(listed.map(({ key, size }) => ({ key, size }))).toEqual(
        sizes.map((size) => ({ key: `${prefix}size-${size}`, size })).sort((a, b) => compare(a.key, b.key)),
      );
      for (const entry of listed) {
        if (entry.lastModified !== undefined) expect(Number.isNaN(entry.lastModified.getTime())).toBe(false);
      }
    });

    it("rejects a put whose body stream fails midway, leaving no object and the previous one intact", async () => {
      const failAfter = Math.floor(largeBytes * 0.75);
      await adapter().put(`${prefix}existing`, utf8("previous"));
      for (const key of [`${prefix}existing`, `${prefix}fresh`]) {
        await expect(adapter().put(key, failingStream(failAfter, new Error("source broke")))).rejects.toBeDefined();
      }
      expect(await getText(adapter(), `${prefix}existing`)).toBe("previous");
      expect(await adapter().get(`${prefix}fresh`)).toBeNull();
      expect(await keysOf(adapter(), prefix)).toEqual([`${prefix}existing`]);
    });

    it("rejects a put with an already-aborted signal with ABORTED and writes nothing", async () => {
      const signal = AbortSignal.abort(new Error("cancelled by test"));
      for (const body of [utf8("bytes"), chunkedStream(utf8("stream"))] as Body[]) {
        await expectAborted(adapter().put(`${prefix}aborted`, body, { signal }));
      }
      expect(await adapter().get(`${prefix}aborted`)).toBeNull();
      expect(await listAll(adapter(), prefix)).toEqual([]);
    });

    it("rejects a put aborted while its body is streaming, cancels the body and writes nothing", async () => {
      await adapter().put(`${prefix}existing`, utf8("previous"));
      for (const key of [`${prefix}existing`, `${prefix}fresh`]) {
        const controller = new AbortController();
        const body = stallingStream(64 * 1024);
        const put = adapter().put(key, body.stream, { signal: controller.signal });
        await body.stalled;
        controller.abort(new Error("cancelled by test"));
        await expectAborted(put);
        // The producer must be released, not left waiting for a read that never comes.
        await new Promise((resolve) => setTimeout(resolve, 0));
        expect(body.cancelled(), "body stream cancelled").toBe(true);
      }
      expect(await getText(adapter(), `${prefix}existing`)).toBe("previous");
      expect(await adapter().get(`${prefix}fresh`)).toBeNull();
      // An adapter that ignores the signal never settles: fail fast instead of at the global timeout.
    }, 30_000);

    it("rejects get, list and delete with an already-aborted signal with ABORTED", async () => {
      await adapter().put(`${prefix}present`, utf8("x"));
      const signal = AbortSignal.abort();
      await expectAborted(adapter().get(`${prefix}present`, { signal }));
      await expectAborted(listAll(adapter(), prefix, signal));
      await expectAborted(adapter().delete([`${prefix}present`], { signal }));
      expect(await getText(adapter(), `${prefix}present`)).toBe("x");
    });

    it("lets a reader cancel a get midway and read the object again", async () => {
      const bytes = randomBytes(3 * MiB);
      await adapter().put(`${prefix}partial`, bytes);
      const first = await adapter().get(`${prefix}partial`);
      const reader = first!.body.getReader();
      expect((await reader.read()).done).toBe(false);
      await reader.cancel();
      const again = await adapter().get(`${prefix}partial`);
      expectSameBytes(await readAll(again!.body), bytes);
    });
  });
}

async function expectAborted(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "expected a rejection").toBeInstanceOf(Error);
  expect(BackupError.is(error, "ABORTED"), `expected code ABORTED, got ${String(error)}`).toBe(true);
}

export async function listAll(adapter: StorageAdapter, prefix: string, signal?: AbortSignal): Promise<ListEntry[]> {
  const entries: ListEntry[] = [];
  for await (const entry of adapter.list(prefix, { signal })) entries.push(entry);
  return entries.sort((a, b) => compare(a.key, b.key));
}

async function keysOf(adapter: StorageAdapter, prefix: string): Promise<string[]> {
  return (await listAll(adapter, prefix)).map((entry) => entry.key);
}

async function getText(adapter: StorageAdapter, key: string): Promise<string | null> {
  const got = await adapter.get(key);
  return got === null ? null : new TextDecoder().decode(await readAll(got.body));
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return concat(await chunksOf(stream));
}

/** Compares without vitest's deep diff, which is unusable on megabytes; reports the first differing offset. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength, "byte length").toBe(expected.byteLength);
  const first = actual.findIndex((byte, i) => byte !== expected[i]);
  expect(first, "offset of the first differing byte").toBe(-1);
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
