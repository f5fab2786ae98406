/** The `notify` option: where alerts go, on which outcomes, and how hard to try. Checked at creation; messages never echo the URL (it may carry a token). */
import { ConfigError } from "../errors.js";
import { wholeNumber } from "../util/whole-number.js";

export const NOTIFY_TRIGGERS = ["success", "failure", "drill-failure", "stale"] as const;
export type NotifyTrigger = (typeof NOTIFY_TRIGGERS)[number];

export interface NotifyOptions {
  /** Where to POST: a webhook, or a healthchecks.io-style ping URL. Treat it as a secret: it is never logged. */
  url: string;
  /**
   * Which outcomes are sent. Default: `["failure", "drill-failure", "stale"]` for a webhook, and
   * `"success"` as well for a ping URL, whose check expects a ping on every success.
   */
  on?: readonly NotifyTrigger[];
  /**
   * `"ping"`: success pings `<url>`, anything else `<url>/fail` (healthchecks.io and compatible
   * servers). `"webhook"`: everything is POSTed to `<url>`. Default: `"ping"` for hosts under
   * `hc-ping.com`, else `"webhook"`.
   */
  style?: "webhook" | "ping";
  /** Time allowed to each attempt, ms. Default 10 000. */
  timeoutMs?: number;
  /** Attempts after the first, with exponential backoff from 500 ms, on network errors, timeouts, 408, 429 and 5xx. Default 3. */
  retries?: number;
  /** Hears a notification that could not be delivered (its message names neither the URL nor a secret). */
  onError?: (error: Error) => void;
}

export interface ResolvedNotify {
  url: URL;
  on: ReadonlySet<NotifyTrigger>;
  style: "webhook" | "ping";
  timeoutMs: number;
  retries: number;
  onError: ((error: Error) => void) | undefined;
}

/** Checks `value`; errors name `<option>.<field>`, or the bare field when `option` is "" (the CLI renames those to its variables). */
export function resolveNotify(value: unknown, option = "notify"): ResolvedNotify | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null) throw new ConfigError(option, "must be an object such as { url, on }");
  const field = (name: string) => (option === "" ? name : `${option}.${name}`);
  const { url, on, style, timeoutMs, retries, onError } = value as NotifyOptions;
  let parsed: URL | undefined;
  try {
    parsed = typeof url === "string" ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new ConfigError(field("url"), "must be an http:// or https:// URL (the value is not shown: it may hold a token)");
  }
  if (style !== undefined && style !== "webhook" && style !== "ping") {
    throw new ConfigError(field("style"), `must be "webhook" or "ping", got ${JSON.stringify(style)}`);
  }
  const resolvedStyle = style ?? (parsed.hostname === "hc-ping.com" || parsed.hostname.endsWith(".hc-ping.com") ? "ping" : "webhook");
  if (on !== undefined && (!Array.isArray(on) || on.some((t) => !(NOTIFY_TRIGGERS as readonly string[]).includes(t)))) {
    throw new ConfigError(field("on"), `must be a list of ${NOTIFY_TRIGGERS.map((t) => JSON.stringify(t)).join(", ")}, got ${JSON.stringify(on)}`);
  }
  if (onError !== undefined && typeof onError !== "function") throw new ConfigError(field("onError"), "must be a function");
  const defaults: NotifyTrigger[] = resolvedStyle === "ping" ? [...NOTIFY_TRIGGERS] : ["failure", "drill-failure", "stale"];
  return {
    url: parsed,
    on: new Set(on ?? defaults),
    style: resolvedStyle,
    timeoutMs: wholeNumber(field("timeoutMs"), timeoutMs, 10_000, 1, 600_000),
    retries: wholeNumber(field("retries"), retries, 3, 0, 10),
    onError,
  };
}
