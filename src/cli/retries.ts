/**
 * What the bin says while the storage is failing and the adapter waits to try again: on a
 * terminal or in a log, `storage unreachable (ECONNREFUSED 127.0.0.1:7480), retrying in 4 s …`
 * (the parts of one upload failing together make one line, not one each); with `--json`, every
 * retry as one JSON line on stderr, for a script to read next to the result on stdout.
 */
import type { RetryNotice } from "../types.js";
import type { Output } from "./output.js";

/** Concurrent requests failing in the same outage within this window share a line. */
const SAME_MOMENT_MS = 1000;

function seconds(ms: number): string {
  return ms < 1000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
}

export function retryLine(notice: RetryNotice): string {
  const what = notice.status === undefined ? `storage unreachable (${notice.reason})` : `storage answered ${notice.reason}`;
  return `${what}, retrying in ${seconds(notice.waitMs)} s …`;
}

/** The `retrying` listener for a command; `prefix` comes before each line (the time, for `run`). */
export function reportRetries(out: Output, json: boolean, prefix: () => string = () => ""): (notice: RetryNotice) => void {
  if (json) return (notice) => out.jsonLine({ event: "retrying", ...notice });
  let last = -Infinity;
  return (notice) => {
    const now = Date.now();
    if (now - last < SAME_MOMENT_MS) return;
    last = now;
    out.notice(`${prefix()}${retryLine(notice)}`);
  };
}
