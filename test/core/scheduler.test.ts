import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { bytesSource, createBackupper } from "../../src/index.js";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { AdapterError } from "../../src/errors.js";
import { createScheduler } from "../../src/scheduler.js";
import type { StorageAdapter } from "../../src/types.js";
import { gatedSource, randomBytes } from "../helpers/data.js";

const MINUTE = 60_000;
const HOUR = 3_600_000;

function nextEvent<T>(subscribe: (fn: (e: T) => void) => () => void): Promise<T> {
  return new Promise((resolve) => {
    const off = subscribe((e) => {
      off();
      resolve(e);
    });
  });
}


describe("scheduler", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs the first backup after 60 s, then every 6 h, until stopped", async () => {
    const adapter = memoryAdapter();
    const b = createBackupper({ adapter, source: bytesSource(randomBytes(100), { name: "q" }) });
    const t0 = Date.now();
    b.start();
    expect(b.status()).toMatchObject({ enabled: true, running: false, interval: 6 * HOUR });
    expect(b.status().nextRun!.getTime()).toBe(t0 + MINUTE);

    await vi.advanceTimersByTimeAsync(MINUTE - 1);
    expect(b.status().lastSuccess).toBeUndefined();
    const first = nextEvent<unknown>((fn) => b.on("succeeded", fn));
    await vi.advanceTimersByTimeAsync(1);
    await first;
    expect(b.status().lastSuccess).toBeDefined();
    await vi.waitFor(() => expect(b.status().nextRun!.getTime()).toBe(t0 + MINUTE + 6 * HOUR));

    const second = nextEvent<unknown>((fn) => b.on("succeeded", fn));
    await vi.advanceTimersByTimeAsync(6 * HOUR);
    await second;
    expect(await b.list()).toHaveLength(2);

    await b.stop();
    expect(b.status()).toMatchObject({ enabled: false, nextRun: undefined });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("honours custom initialDelay and interval, and skips a run while a backup is in flight", async () => {
    const { source, release } = gatedSource();
    const b = createBackupper({ adapter: memoryAdapter(), source, initialDelay: 10, interval: 1000 });
    const skipped: unknown[] = [];
    b.on("skipped", (e) => void skipped.push(e));
    const manual = b.backup();
    b.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(skipped).toEqual([{ reason: "in-progress" }]);
    release();
    await manual;
    await b.stop();
  });

  it("stop() waits for a running backup; stop({ abort: true }) aborts it", async () => {
    const slow = gatedSource();
    const b = createBackupper({ adapter: memoryAdapter(), source: slow.source });
    const running = b.backup();
    let stopped = false;
    const stopping = b.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(stopped).toBe(false);
    slow.release();
    await stopping;
    await expect(running).resolves.toMatchObject({ name: "gated" });

    const stuck = gatedSource();
    const b2 = createBackupper({ adapter: memoryAdapter(), source: stuck.source });
    const doomed = b2.backup();
    await b2.stop({ abort: true });
    await expect(doomed).rejects.toMatchObject({ code: "ABORTED" });
    expect(b2.status().lastFailure).toMatchObject({ code: "ABORTED" });
  });
});

/** A memory adapter whose puts fail while `down` is true, as a storage in an outage. */
function flakyAdapter() {
  const inner = memoryAdapter();
  const state = { down: true, puts: 0 };
  const adapter: StorageAdapter = {
    ...inner,
    put: (key, body, opts) => {
      state.puts++;
      if (!state.down) return inner.put(key, body, opts);
      if (body instanceof ReadableStream) void body.cancel();
      return Promise.reject(new AdapterError("flaky", "put", "storage unreachable (test)", { key }));
    },
  };
  return { adapter, state };
}

describe("scheduler: retrying failed runs", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("retries a failed scheduled backup after 1, 2, 4 minutes, and nextRun says when; after a success the regular interval resumes", async () => {
    const { adapter, state } = flakyAdapter();
    const b = createBackupper({ adapter, source: bytesSource(randomBytes(100), { name: "q" }), initialDelay: 0, interval: 6 * HOUR });
    const failed: unknown[] = [];
    b.on("failed", (e) => void failed.push(e));
    const t0 = Date.now();
    b.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.waitFor(() => expect(b.status().nextRun!.getTime()).toBe(t0 + MINUTE));
    expect(b.status().lastFailure).toMatchObject({ code: "ADAPTER" });

    await vi.advanceTimersByTimeAsync(MINUTE);
    await vi.waitFor(() => expect(b.status().nextRun!.getTime()).toBe(t0 + 3 * MINUTE));
    await vi.advanceTimersByTimeAsync(2 * MINUTE);
    await vi.waitFor(() => expect(b.status().nextRun!.getTime()).toBe(t0 + 7 * MINUTE));
    expect(failed).toHaveLength(3);

    state.down = false;
    await vi.advanceTimersByTimeAsync(4 * MINUTE);
    await vi.waitFor(() => expect(b.status().lastSuccess).toBeDefined());
    // The regular schedule is anchored to the run that failed, not shifted by the retries.
    await vi.waitFor(() => expect(b.status().nextRun!.getTime()).toBe(t0 + 6 * HOUR));
    expect(await b.list()).toHaveLength(1);
    await b.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("never retries past the next regular run, and starts the backoff over at it", async () => {
    const { adapter, state } = flakyAdapter();
    const b = createBackupper({ adapter, source: bytesSource(randomBytes(100), { name: "q" }), initialDelay: 0, interval: 5 * MINUTE });
    const t0 = Date.now();
    b.start();
    const runs: number[] = [];
    b.on("started", () => void runs.push(Date.now() - t0));
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(5 * MINUTE);
    await vi.advanceTimersByTimeAsync(MINUTE);
    // Regular at 0, retries at 1 and 3 (the next at 7 would pass the regular run at 5), regular at 5, retry at 6.
    expect(runs).toEqual([0, MINUTE, 3 * MINUTE, 5 * MINUTE, 6 * MINUTE]);
    expect(state.puts).toBe(5);
    await b.stop();
  });

  it("with retryFailed: false waits for the next interval", async () => {
    const { adapter } = flakyAdapter();
    const b = createBackupper({ adapter, source: bytesSource(randomBytes(100), { name: "q" }), initialDelay: 0, interval: HOUR, retryFailed: false });
    const t0 = Date.now();
    b.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.waitFor(() => expect(b.status().nextRun!.getTime()).toBe(t0 + HOUR));
    expect(b.status().lastFailure).toBeDefined();
    await b.stop();
  });

  it("createScheduler retries only when asked: without retry a rejected run waits for the interval", async () => {
    const t0 = Date.now();
    let calls = 0;
    const run = () => (calls++, Promise.reject(new Error("down")));
    const plain = createScheduler({ initialDelay: 0, interval: HOUR, run });
    plain.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(plain.nextRun!.getTime()).toBe(t0 + HOUR);
    await plain.stop();

    const retried = createScheduler({ initialDelay: 0, interval: HOUR, run, retry: { initialDelay: 1000, maxDelay: 3000 } });
    retried.start();
    await vi.advanceTimersByTimeAsync(0);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const at = retried.nextRun!.getTime() - Date.now();
      waits.push(at);
      await vi.advanceTimersByTimeAsync(at);
    }
    expect(waits).toEqual([1000, 2000, 3000, 3000]);
    expect(calls).toBe(6);
    await retried.stop();
  });

  it("rejects retryFailed that is not a boolean, naming it", () => {
    expect(() => createBackupper({ adapter: memoryAdapter(), source: bytesSource(new Uint8Array(1)), retryFailed: "no" as never })).toThrow(/retryFailed/);
  });
});

describe("scheduler timers", () => {
  it("do not keep a process alive on their own", () => {
    const script = `
      import { createBackupper, bytesSource } from ${JSON.stringify(join(import.meta.dirname, "../../src/index.ts"))};
      import { memoryAdapter } from ${JSON.stringify(join(import.meta.dirname, "../../src/adapters/memory.ts"))};
      createBackupper({ adapter: memoryAdapter(), source: bytesSource(new Uint8Array(1)) }).start();
      console.log("started");
    `;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 30_000, encoding: "utf8" });
    expect(child.stdout).toContain("started");
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
  });
});
