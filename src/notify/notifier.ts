/**
 * Alerts: a small JSON document POSTed for the outcomes `notify.on` names, in the background.
 * Delivery never blocks, slows or fails the operation it reports: `send` returns at once, each
 * attempt has a time limit, failures are retried with backoff a bounded number of times and then
 * handed to `onError`, and `idle()` lets a short-lived process (the CLI's `now`) wait for what is
 * still in flight before it exits. Nothing in a document or an error message comes from the URL
 * (which may carry a token) or the configuration; error messages pass through `redact`.
 */
import type { BackupError } from "../errors.js";
import { hostFacts } from "../codec/host.js";
import { causeChain, codedCause, transientStatus } from "../util/fetch-failure.js";
import type { NotifyTrigger, ResolvedNotify } from "./options.js";

interface NotifyDetails {
  /** The backup concerned, when there is one. */
  key?: string | undefined;
  /** What failed: `"backup"`, `"prune"`, `"drill"`, `"status"`. */
  operation?: string;
  /** `code`: a `BackupError`'s, or `"STALE"` for a stale alert. */
  error?: { code: BackupError["code"] | "STALE"; message: string } | undefined;
}

export interface Notifier {
  /** Queues the notification if `trigger` is one of `notify.on`; never throws. */
  send(trigger: NotifyTrigger, details: NotifyDetails): void;
  /** Resolves once every notification sent so far is delivered or given up. */
  idle(): Promise<void>;
}

const BACKOFF_MS = 500;

export function createNotifier(options: ResolvedNotify, scope: { name: string; prefix: string }, redact: (text: string) => string = (t) => t): Notifier {
  const pending = new Set<Promise<void>>();
  const target = (trigger: NotifyTrigger): string => {
    if (options.style === "webhook" || trigger === "success") return options.url.href;
    const url = new URL(options.url.href);
    url.pathname = `${url.pathname.replace(/\/+$/, "")}/fail`;
    return url.href;
  };

  async function deliver(trigger: NotifyTrigger, details: NotifyDetails, time: Date): Promise<void> {
    const { host } = await hostFacts();
    const body = JSON.stringify({
      event: trigger,
      name: scope.name,
      prefix: scope.prefix,
      key: details.key ?? null,
      operation: details.operation ?? null,
      error: details.error ? { code: details.error.code, message: redact(details.error.message) } : null,
      time: time.toISOString(),
      host: host ?? null,
    });
    let problem = "";
    for (let attempt = 0; attempt <= options.retries; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, BACKOFF_MS * 2 ** (attempt - 1) * (0.5 + Math.random())));
      try {
        const res = await fetch(target(trigger), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        await res.body?.cancel();
        if (res.ok) return;
        problem = `HTTP ${res.status}`;
        if (!transientStatus(res.status)) break;
      } catch (error) {
        const code = codedCause(causeChain(error))?.code;
        problem = (error as Error)?.name === "TimeoutError" ? `no answer within ${options.timeoutMs} ms` : `the endpoint could not be reached${code === undefined ? "" : ` (${code})`}`;
      }
    }
    options.onError?.(new Error(`notification "${trigger}" for ${scope.name} not delivered (${problem})`));
  }

  return {
    send(trigger, details) {
      if (!options.on.has(trigger)) return;
      const delivery = deliver(trigger, details, new Date())
        .catch(() => undefined)
        .finally(() => pending.delete(delivery));
      pending.add(delivery);
    },
    async idle() {
      while (pending.size > 0) await Promise.all(pending);
    },
  };
}
