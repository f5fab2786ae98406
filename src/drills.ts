/**
 * Restore drills of one backupper, asked for by hand or scheduled every `drillInterval`. Each
 * runs under the same `Serial` as the backups, so a drill never overlaps a backup (or its
 * retention, which could delete the backup being drilled): whichever is asked second waits.
 */
import type { Context } from "./context.js";
import { checkDrillOptions, drill, type DrillOptions } from "./operations/drill.js";
import { createScheduler, type Scheduler } from "./scheduler.js";
import type { DrillResult } from "./events.js";
import type { StatusBook } from "./status.js";
import type { Serial } from "./util/concurrency.js";
import { anySignal } from "./util/streams.js";

export interface Drills {
  run(opts: DrillOptions, scheduled: boolean): Promise<DrillResult>;
  /** Starts the drill schedule when `drillInterval` is set. */
  start(keepAlive: boolean): void;
  /** Stops the schedule and waits for the drills asked for, or aborts them with `abort`. */
  stop(abort: boolean): Promise<void>;
}

export function createDrills(ctx: Context, book: StatusBook, serial: Serial): Drills {
  const controllers = new Set<AbortController>();
  let scheduler: Scheduler | undefined;

  function run(opts: DrillOptions, scheduled: boolean): Promise<DrillResult> {
    try {
      checkDrillOptions(opts);
    } catch (error) {
      return Promise.reject(error);
    }
    const controller = new AbortController();
    const signal = anySignal([opts.signal, controller.signal]);
    controllers.add(controller);
    return serial
      .run(() => drill(ctx, { ...opts, signal, scheduled, settled: book.drillSettled, listed: book.listed }))
      .finally(() => controllers.delete(controller));
  }

  return {
    run,
    start(keepAlive) {
      const interval = ctx.options.drillInterval;
      if (interval === undefined || scheduler?.enabled) return;
      const pick = ctx.options.drillPick;
      scheduler = createScheduler({ initialDelay: ctx.options.initialDelay, interval, keepAlive, run: () => run({ pick }, true) });
      scheduler.start();
    },
    async stop(abort) {
      if (abort) for (const controller of controllers) controller.abort(new Error("backupper stopped"));
      await scheduler?.stop();
      // Every drill asked for is queued on `serial`: a task queued now runs after the last of them settled.
      await serial.run(async () => undefined);
    },
  };
}
