/** The bin's retry line and its `--json` form, from the notices the adapter reports. */
import { describe, expect, it, vi } from "vitest";
import { createOutput, redactor } from "../../src/cli/output.js";
import { reportRetries, retryLine } from "../../src/cli/retries.js";
import type { RetryNotice } from "../../src/types.js";

const refused: RetryNotice = {
  operation: "put (part 3)",
  key: "backups/q.db.gz",
  code: "ECONNREFUSED",
  reason: "ECONNREFUSED 127.0.0.1:7480",
  status: undefined,
  attempt: 2,
  waitMs: 3_600,
  failingForMs: 1_200,
};

function streams(isTTY: boolean) {
  const err: string[] = [];
  return { err, out: createOutput({ stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t), isTTY } }, redactor([])) };
}

describe("retry line", () => {
  it("says the storage is unreachable and when the next attempt comes", () => {
    expect(retryLine(refused)).toBe("storage unreachable (ECONNREFUSED 127.0.0.1:7480), retrying in 4 s …");
    expect(retryLine({ ...refused, waitMs: 250 })).toBe("storage unreachable (ECONNREFUSED 127.0.0.1:7480), retrying in 0.3 s …");
    expect(retryLine({ ...refused, code: "SlowDown", reason: "503 SlowDown", status: 503 })).toBe("storage answered 503 SlowDown, retrying in 4 s …");
  });

  it("replaces the progress line on a terminal, and makes one line of parts failing at the same moment", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const { out, err } = streams(true);
      const report = reportRetries(out, false);
      report(refused);
      report({ ...refused, operation: "put (part 4)" });
      vi.advanceTimersByTime(1_000);
      report({ ...refused, attempt: 3 });
      expect(err).toEqual([`\r\x1b[K${retryLine(refused)}\n`, `\r\x1b[K${retryLine(refused)}\n`]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("is a plain line when stderr is not a terminal", () => {
    const { out, err } = streams(false);
    reportRetries(out, false, () => "2026-12-01T12:00:00.000Z ")(refused);
    expect(err).toEqual([`2026-12-01T12:00:00.000Z ${retryLine(refused)}\n`]);
  });

  it("with --json writes every retry as one JSON line on stderr", () => {
    const { out, err } = streams(false);
    const report = reportRetries(out, true);
    report(refused);
    report({ ...refused, operation: "put (part 4)" });
    expect(err).toHaveLength(2);
    expect(err.every((line) => line.endsWith("\n") && !line.slice(0, -1).includes("\n"))).toBe(true);
    expect(JSON.parse(err[1]!)).toEqual({ event: "retrying", ...refused, operation: "put (part 4)", key: "backups/q.db.gz" });
  });
});
