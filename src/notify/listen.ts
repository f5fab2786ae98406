/**
 * Which events become which alerts, and a notifier loaded only when the first alert is sent: the
 * delivery code (notifier.ts) stays out of the bundle of a backupper that never alerts.
 */
import type { Emitter } from "../events.js";
import type { Notifier } from "./notifier.js";
import type { NotifyTrigger, ResolvedNotify } from "./options.js";

/** A failed operation's trigger; a `failed` event of any other operation is reported as a failure. */
const FAILURE_TRIGGERS: Record<string, NotifyTrigger> = { drill: "drill-failure" };

/** Sends what `emitter` reports: successful backups, and failures of backups, retention and drills. */
export function notifyOn(emitter: Pick<Emitter, "on">, notifier: Pick<Notifier, "send">): void {
  emitter.on("succeeded", (info) => notifier.send("success", { key: info.key, operation: "backup" }));
  emitter.on("failed", (e) => notifier.send(FAILURE_TRIGGERS[e.operation] ?? "failure", { key: e.key, operation: e.operation, error: e.error }));
}

/** `createNotifier(options, scope)`, imported on the first `send` that `options.on` lets through. */
export function lazyNotifier(options: ResolvedNotify, scope: { name: string; prefix: string }): Pick<Notifier, "send"> {
  let loaded: Promise<Notifier> | undefined;
  return {
    send(trigger, details) {
      if (!options.on.has(trigger)) return;
      loaded ??= import("./notifier.js").then((m) => m.createNotifier(options, scope));
      void loaded.then((n) => n.send(trigger, details));
    },
  };
}
