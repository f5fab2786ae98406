/**
 * Runs a task once after `initialDelay`, then every `interval` after each regular run started,
 * never two at a time. A run that rejects is retried, when `retry` is set, with backoff
 * (`retry.initialDelay`, doubling, up to `retry.maxDelay`) but never past the next regular run,
 * which comes when it would have anyway. Timers are unref'd by default so a scheduler alone
 * does not keep a process alive (a foreground CLI daemon asks for `keepAlive`).
 */

export interface SchedulerOptions {
  initialDelay: number;
  interval: number;
  keepAlive?: boolean;
  /** Retry a run that rejected before the next regular one; default: no retries. */
  retry?: { initialDelay: number; maxDelay?: number } | undefined;
  /** Rejects when the run failed (and should be retried, if `retry` is set). */
  run: () => Promise<unknown>;
}

export interface Scheduler {
  start(): void;
  /** Cancels future runs; resolves once a run in progress has settled. */
  stop(): Promise<void>;
  readonly enabled: boolean;
  /** The next run, regular or a retry. */
  readonly nextRun: Date | undefined;
}

type Timer = ReturnType<typeof setTimeout>;

function unref(timer: Timer): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
    return;
  }
  // Deno's setTimeout returns a number; Deno.unrefTimer is its way to the same effect.
  (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno?.unrefTimer?.(timer as unknown as number);
}

export function createScheduler(opts: SchedulerOptions): Scheduler {
  let timer: Timer | undefined;
  let next: Date | undefined;
  let current: Promise<void> | undefined;
  let enabled = false;
  /** When the last regular run started: the next one is `interval` after it. */
  let regularAt = 0;
  /** Failed runs since the last regular one started. */
  let failures = 0;

  const arm = (delay: number, retry: boolean) => {
    next = new Date(Date.now() + delay);
    timer = setTimeout(() => fire(retry), delay);
    if (!opts.keepAlive) unref(timer);
  };

  const armAfter = (failed: boolean) => {
    const regular = Math.max(0, regularAt + opts.interval - Date.now());
    if (failed && opts.retry) {
      failures++;
      const backoff = Math.min(opts.retry.initialDelay * 2 ** (failures - 1), opts.retry.maxDelay ?? Infinity);
      if (backoff < regular) return arm(backoff, true);
    }
    arm(regular, false);
  };

  function fire(retry: boolean) {
    timer = undefined;
    if (!enabled) return;
    if (!retry) {
      regularAt = Date.now();
      failures = 0;
    }
    current = opts
      .run()
      .then(
        () => false,
        () => true,
      )
      .then((failed) => {
        current = undefined;
        if (enabled) armAfter(failed);
      });
  }

  return {
    start() {
      if (enabled) return;
      enabled = true;
      arm(opts.initialDelay, false);
    },
    async stop() {
      enabled = false;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      next = undefined;
      await current;
    },
    get enabled() {
      return enabled;
    },
    get nextRun() {
      return next;
    },
  };
}
