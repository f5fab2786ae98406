/**
 * Runs a task once after `initialDelay`, then every `interval` after each run started,
 * never two at a time. Timers are unref'd by default so a scheduler alone does not keep
 * a process alive (a foreground CLI daemon asks for `keepAlive`).
 */

export interface SchedulerOptions {
  initialDelay: number;
  interval: number;
  keepAlive?: boolean;
  run: () => Promise<unknown>;
}

export interface Scheduler {
  start(): void;
  /** Cancels future runs; resolves once a run in progress has settled. */
  stop(): Promise<void>;
  readonly enabled: boolean;
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

  const arm = (delay: number) => {
    next = new Date(Date.now() + delay);
    timer = setTimeout(fire, delay);
    if (!opts.keepAlive) unref(timer);
  };

  function fire() {
    timer = undefined;
    if (!enabled) return;
    const startedAt = Date.now();
    current = opts
      .run()
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        current = undefined;
        if (enabled) arm(Math.max(0, startedAt + opts.interval - Date.now()));
      });
  }

  return {
    start() {
      if (enabled) return;
      enabled = true;
      arm(opts.initialDelay);
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
