import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { bytesSource, createBackupper, streamSource } from "../../src/index.js";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { randomBytes } from "../helpers/data.js";

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

/** A source whose stream stays open until `release()` is called, to hold a backup in flight. */
function gatedSource() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const source = streamSource(
    () =>
      new ReadableStream({
        async pull(c) {
          await gate;
          c.enqueue(randomBytes(1000));
          c.close();
        },
      }),
    { name: "gated" },
  );
  return { source, release };
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
