/**
 * `backupper/testing`, the exported conformance suite: the built entry runs under `node:test`
 * with no vitest, reaches no `node:` module, stays out of the main entry, and it FAILS broken
 * adapters, naming the check that caught each (a suite that cannot fail checks nothing).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { adapterConformance, ConformanceError, runConformance } from "../../src/testing.js";
import type { ConformanceReport } from "../../src/testing.js";
import type { GetResult, ListEntry, StorageAdapter } from "../../src/types.js";
import { runBin } from "../helpers/bin.js";

const ROOT = join(import.meta.dirname, "../..");
const DIST = join(ROOT, "dist");
const FIXTURE = join(ROOT, "test/fixtures/conformance-node-test.mjs");
/** The checks the suite makes; dropping one must be a deliberate change here too. */
const CHECKS = 20;

const MISSING_NULL = "returns null for a missing key";
const PLAIN_PREFIX = "lists by plain string prefix: foo matches foo/x and foobar, not fo";
const AWKWARD_KEYS = "stores, lists and reads keys with spaces, + & % = ? #, unicode and nesting";
const MANY_KEYS = "lists 1100 keys, each exactly once, with their sizes";
const LARGE = `round-trips ${12 * 1024 * 1024} random bytes from a stream of odd-sized chunks`;
const DELETE = "deletes missing keys, no keys, and several keys at once";
const FAILING_PUT = "rejects a put whose body stream fails midway, leaving no object and the previous one intact";
const ABORTED_PUT = "rejects a put with an already-aborted signal with ABORTED and writes nothing";
const ABORTED_STREAMING = "rejects a put aborted while its body is streaming, cancels the body and writes nothing";
const ABORTED_OTHERS = "rejects get, list and delete with an already-aborted signal with ABORTED";
const IF_NONE_MATCH = "conditional put: ifNoneMatch creates only when there is no object, and get reports its etag";
const IF_MATCH = "conditional put: ifMatch replaces only the version it names";
const RACING = "conditional put: of 8 racing puts on one condition exactly one is written";

async function nodeTest(env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const { code, stdout, stderr } = await runBin(process.execPath, ["--test", "--test-reporter=tap", FIXTURE], { cwd: ROOT, env });
  return { code, out: stdout + stderr };
}

function failedNames(report: ConformanceReport): string[] {
  return report.failed.map((f) => f.name).sort();
}

function messageOf(report: ConformanceReport, name: string): string {
  const failure = report.failed.find((f) => f.name === name);
  expect(failure, `${name} failed`).toBeDefined();
  expect(failure!.error).toBeInstanceOf(ConformanceError);
  expect((failure!.error as ConformanceError).check).toBe(name);
  return (failure!.error as Error).message;
}

/** `memoryAdapter()` with one method replaced. */
function broken(change: (inner: StorageAdapter) => Partial<StorageAdapter>): () => Promise<{ adapter: StorageAdapter }> {
  return async () => {
    const inner = memoryAdapter();
    return { adapter: { ...inner, ...change(inner) } };
  };
}

const emptyBody = (): GetResult => ({ body: new ReadableStream({ start: (c) => c.close() }), size: 0 });

describe("backupper/testing, built, under node:test", () => {
  it(`passes all ${CHECKS} checks on the built memoryAdapter`, async () => {
    const { code, out } = await nodeTest();
    expect(out).toMatch(new RegExp(`^# pass ${CHECKS}$`, "m"));
    expect(out).toMatch(/^# fail 0$/m);
    expect(code, out).toBe(0);
  }, 120_000);

  it("fails a memoryAdapter whose get of a missing key resolves an empty object, naming the check", async () => {
    const { code, out } = await nodeTest({ CONFORMANCE_ADAPTER: "missing-as-empty" });
    expect(code).not.toBe(0);
    expect(out).toMatch(new RegExp(`^not ok \\d+ - ${MISSING_NULL}$`, "m"));
    expect(out).toMatch(/check "returns null for a missing key" failed: get of a key never written must resolve null/);
    expect(out).toMatch(/key: +"conformance-[^"]+\/missing"/);
    expect(out).toMatch(/^ok \d+ - round-trips every byte value from a Uint8Array body$/m);
    expect(out).toMatch(new RegExp(`^# fail 5$`, "m"));
  }, 120_000);
});

describe("backupper/testing entry", () => {
  /** The files an entry loads through its relative static imports and requires. */
  async function reach(file: string, seen = new Set<string>()): Promise<Set<string>> {
    if (seen.has(file)) return seen;
    seen.add(file);
    const text = await readFile(file, "utf8");
    for (const m of text.matchAll(/(?:(?:import|export)[^;]*?from\s*|require\()["'](\.[^"']+)["']/g)) await reach(join(file, "..", m[1]!), seen);
    return seen;
  }

  it("reaches no node: module, in ESM and CJS, and is not reached from the main entry", async () => {
    for (const entry of ["testing.js", "testing.cjs"]) {
      const offenders: string[] = [];
      for (const f of await reach(join(DIST, entry))) {
        if (/(from\s*|require\(|import\()["'](node|bun):/.test(await readFile(f, "utf8"))) offenders.push(relative(DIST, f));
      }
      expect(offenders, entry).toEqual([]);
    }
    for (const entry of ["index.js", "index.cjs", "adapters/s3.js", "adapters/memory.js"]) {
      const reached = [...(await reach(join(DIST, entry)))].map((f) => relative(DIST, f));
      expect(reached.filter((f) => f.startsWith("testing")), entry).toEqual([]);
    }
  });

  it("the CJS build exports the same suite", () => {
    const cjs = createRequire(import.meta.url)(join(DIST, "testing.cjs")) as typeof import("../../src/testing.js");
    const suite = cjs.adapterConformance(async () => ({ adapter: memoryAdapter() }));
    expect(suite.checks.map((c) => c.name)).toEqual(adapterConformance(async () => ({ adapter: memoryAdapter() })).checks.map((c) => c.name));
    expect(typeof cjs.runConformance).toBe("function");
    expect(typeof cjs.ConformanceError).toBe("function");
  });
});

describe("adapterConformance / runConformance", () => {
  it(`has ${CHECKS} checks with distinct names and timeouts; sets up once, lazily, and cleans up once`, async () => {
    let setups = 0;
    let cleanups = 0;
    const suite = adapterConformance(async () => {
      setups += 1;
      return { adapter: memoryAdapter(), cleanup: async () => void (cleanups += 1) };
    });
    expect(suite.checks).toHaveLength(CHECKS);
    expect(new Set(suite.checks.map((c) => c.name)).size).toBe(CHECKS);
    for (const check of suite.checks) expect(check.timeout).toBeGreaterThan(0);
    expect(setups).toBe(0);
    const { run } = suite.checks.find((c) => c.name === MISSING_NULL)!;
    await run();
    await suite.setup();
    await run();
    expect(setups).toBe(1);
    await suite.cleanup();
    await suite.cleanup();
    expect(cleanups).toBe(1);
  });

  it("passes memoryAdapter and leaves nothing behind", async () => {
    const inner = memoryAdapter();
    let cleaned = false;
    const report = await runConformance(async () => ({ adapter: inner, cleanup: async () => void (cleaned = true) }));
    expect(report.failed).toEqual([]);
    expect(report.passed).toHaveLength(CHECKS);
    expect(report.ok).toBe(true);
    expect(cleaned).toBe(true);
    const left: ListEntry[] = [];
    for await (const entry of inner.list("")) left.push(entry);
    expect(left).toEqual([]);
  }, 60_000);

  it("rejects suite.setup() with the setup's error", async () => {
    const failing = new Error("no bucket");
    await expect(adapterConformance(() => Promise.reject(failing)).setup()).rejects.toBe(failing);
    await expect(adapterConformance(async () => ({}) as never).setup()).rejects.toThrow(/must resolve to \{ adapter, cleanup\? \}/);
  });

  it("fails every check, naming the setup, when setup rejects", async () => {
    const report = await runConformance(async () => {
      throw new Error("no bucket");
    });
    expect(report.passed).toEqual([]);
    expect(report.failed).toHaveLength(CHECKS);
    expect(messageOf(report, MISSING_NULL)).toMatch(/setup\(\) rejected: Error: no bucket/);
  });

  it("fails an adapter whose get of a missing key resolves an empty object", async () => {
    const report = await runConformance(broken((inner) => ({ get: async (key, opts) => (await inner.get(key, opts)) ?? emptyBody() })));
    expect(failedNames(report)).toEqual([ABORTED_STREAMING, ABORTED_PUT, DELETE, FAILING_PUT, MISSING_NULL].sort());
    const message = messageOf(report, MISSING_NULL);
    expect(message).toContain(`check "${MISSING_NULL}" failed: get of a key never written must resolve null`);
    expect(message).toMatch(/key: +"conformance-[^"]+\/missing"\n +expected: null\n +actual: +\{ body: ReadableStream, size: 0 \}/);
  }, 60_000);

  it("fails an adapter whose list treats the prefix as a directory", async () => {
    const report = await runConformance(
      broken((inner) => ({
        async *list(prefix, opts) {
          for await (const entry of inner.list(prefix, opts)) {
            const rest = entry.key.slice(prefix.length);
            if (prefix === "" || prefix.endsWith("/") || rest === "" || rest.startsWith("/")) yield entry;
          }
        },
      })),
    );
    expect(failedNames(report)).toEqual([AWKWARD_KEYS, PLAIN_PREFIX].sort());
    const message = messageOf(report, PLAIN_PREFIX);
    expect(message).toMatch(/wrong keys listed under "conformance-[^"]+\/foo"/);
    expect(message).toMatch(/missing \(1\): \["conformance-[^"]+\/foobar"\]/);
  }, 60_000);

  it("fails an adapter whose list stops after one 1000-key page", async () => {
    const report = await runConformance(
      broken((inner) => ({
        async *list(prefix, opts) {
          let n = 0;
          for await (const entry of inner.list(prefix, opts)) if (n++ < 1000) yield entry;
        },
      })),
    );
    expect(failedNames(report)).toEqual([MANY_KEYS]);
    expect(messageOf(report, MANY_KEYS)).toMatch(/wrong number of entries listed under "[^"]+\/many\/"\n +expected: 1100\n +actual: +1000\n +missing \(100\)/);
  }, 60_000);

  it("fails an adapter that corrupts one byte of a large object, naming the offset", async () => {
    const report = await runConformance(
      broken((inner) => ({
        async get(key, opts) {
          const got = await inner.get(key, opts);
          if (got === null || (got.size ?? 0) < 10 * 1024 * 1024) return got;
          let offset = 0;
          const flip = new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              const at = 5_000_000 - offset;
              if (at >= 0 && at < chunk.byteLength) chunk[at] = chunk[at]! ^ 1;
              offset += chunk.byteLength;
              controller.enqueue(chunk);
            },
          });
          return { body: got.body.pipeThrough(flip), size: got.size };
        },
      })),
    );
    expect(failedNames(report)).toEqual([LARGE]);
    expect(messageOf(report, LARGE)).toMatch(/bytes read back differ from those stored, first at offset 5000000\n +key: +"[^"]+\/large"/);
  }, 60_000);

  it("fails an adapter whose put ignores its signal within seconds, not at a runner's timeout", async () => {
    const suite = adapterConformance(
      broken(() => ({
        async put(_key, body) {
          if (body instanceof Uint8Array) return {};
          const reader = body.getReader();
          while (!(await reader.read()).done);
          return {};
        },
      })),
    );
    const check = suite.checks.find((c) => c.name === ABORTED_STREAMING)!;
    const started = Date.now();
    await expect(check.run()).rejects.toThrow(/put did not settle within 15000 ms of its signal aborting \(waited 15000 ms\)\n +key: /);
    expect(Date.now() - started).toBeLessThan(check.timeout);
    await suite.cleanup();
  }, 60_000);

  it("fails an adapter whose get, list and delete reject an aborted signal with a plain Error", async () => {
    const refuse = (signal: AbortSignal | undefined) => {
      if (signal?.aborted) throw new Error("aborted");
    };
    const report = await runConformance(
      broken((inner) => ({
        get: async (key, opts) => (refuse(opts?.signal), inner.get(key, opts)),
        async *list(prefix, opts) {
          refuse(opts?.signal);
          yield* inner.list(prefix, opts);
        },
        delete: async (keys, opts) => (refuse(opts?.signal), inner.delete(keys, opts)),
      })),
    );
    expect(failedNames(report)).toEqual([ABORTED_OTHERS]);
    expect(messageOf(report, ABORTED_OTHERS)).toMatch(
      /get with an aborted signal must reject with a BackupError of code ABORTED\n +key: +"[^"]+\/present"\n +expected: "a BackupError with code ABORTED"\n +actual: +Error: aborted/,
    );
  }, 60_000);
  it("fails an adapter whose putIf checks the condition and writes in two steps, naming the race", async () => {
    const report = await runConformance(
      broken((inner) => ({
        async putIf(key, body, condition, opts) {
          const current = await inner.get(key, opts);
          if (current) await current.body.cancel();
          const holds = "ifNoneMatch" in condition ? current === null : current?.etag === condition.ifMatch;
          if (!holds) return { written: false };
          await new Promise((resolve) => setTimeout(resolve, 1));
          await inner.put(key, body, opts);
          return { written: true, etag: (await inner.get(key, opts))?.etag ?? "" };
        },
      })),
    );
    expect(failedNames(report)).toContain(RACING);
    expect(failedNames(report)).not.toContain(IF_NONE_MATCH);
    expect(messageOf(report, RACING)).toMatch(/writers whose create was written/);
  }, 60_000);

  it("passes the conditional checks as not applicable for an adapter without putIf", async () => {
    const report = await runConformance(broken(() => ({ putIf: undefined })));
    expect(report.failed).toEqual([]);
    expect(report.passed).toEqual(expect.arrayContaining([IF_NONE_MATCH, IF_MATCH, RACING]));
  }, 60_000);
});
