/**
 * `metrics()`: the Prometheus text format 0.0.4 of the status, sample by sample, with label values
 * escaped. That the output passes `promtool check metrics` is test/cli/metrics-promtool.test.ts.
 */
import { describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { bytesSource, createBackupper, PROMETHEUS_CONTENT_TYPE, streamSource } from "../../src/index.js";
import { randomBytes } from "../helpers/data.js";

/** The samples of a text exposition: `name{labels}` → value, labels as written. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const L = 'name="q",prefix="backups/"';

describe("metrics()", () => {
  it("before any backup: retention and the running gauge only; the families that need an event are absent", () => {
    const b = createBackupper({ adapter: memoryAdapter(), source: bytesSource(new Uint8Array(), { name: "q" }), retention: { last: 3, daily: 7, within: 86_400_000 } });
    const text = b.metrics();
    expect(text.endsWith("\n")).toBe(true);
    expect([...samples(text)]).toEqual([
      [`backupper_retention_keep{${L},rule="last"}`, 3],
      [`backupper_retention_keep{${L},rule="daily"}`, 7],
      [`backupper_retention_keep{${L},rule="within"}`, 86_400],
      [`backupper_backup_running{${L}}`, 0],
    ]);
    expect(text).toContain("# HELP backupper_retention_keep ");
    expect(text).toContain("# TYPE backupper_retention_keep gauge\n");
    expect(PROMETHEUS_CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
  });

  it("after a success, a failure and drills: times in seconds, sizes in bytes, failures counted by operation and code", async () => {
    let fail = false;
    const data = randomBytes(10_000);
    const source = streamSource(
      () =>
        new ReadableStream({
          start(c) {
            if (fail) c.error(new Error("disk gone"));
            else {
              c.enqueue(data);
              c.close();
            }
          },
        }),
      { name: "q" },
    );
    const adapter = memoryAdapter();
    const b = createBackupper({ adapter, source });
    const before = Date.now() / 1000;
    const info = await b.backup();
    fail = true;
    await expect(b.backup()).rejects.toMatchObject({ code: "SOURCE" });
    await expect(b.backup()).rejects.toMatchObject({ code: "SOURCE" });
    await b.drill();
    const s = samples(b.metrics());
    const after = Date.now() / 1000;
    for (const name of ["last_success_timestamp_seconds", "last_failure_timestamp_seconds", "last_drill_timestamp_seconds"]) {
      expect(s.get(`backupper_${name}{${L}}`)).toBeGreaterThanOrEqual(before);
      expect(s.get(`backupper_${name}{${L}}`)).toBeLessThanOrEqual(after);
    }
    expect(s.get(`backupper_last_backup_duration_seconds{${L}}`)).toBe(info.durationMs! / 1000);
    expect(s.get(`backupper_last_backup_size_bytes{${L}}`)).toBe(10_000);
    expect(s.get(`backupper_last_backup_stored_bytes{${L}}`)).toBe(info.compressedSize);
    expect(s.get(`backupper_backups{${L}}`)).toBe(1);
    expect(s.get(`backupper_future_dated_backups{${L}}`)).toBe(0);
    expect(s.get(`backupper_newest_backup_timestamp_seconds{${L}}`)).toBe(info.timestamp.getTime() / 1000);
    expect(s.get(`backupper_last_drill_success{${L}}`)).toBe(1);
    expect(s.get(`backupper_failures_total{${L},operation="backup",code="SOURCE"}`)).toBe(2);

    // A drill of a backup whose bytes changed: the result gauge drops to 0 and the failure is counted.
    const stored = new Uint8Array(await new Response((await adapter.get(info.key))!.body).arrayBuffer());
    stored[stored.length >> 1]! ^= 1;
    await adapter.put(info.key, stored);
    const drill = await b.drill();
    const t = samples(b.metrics());
    expect(t.get(`backupper_last_drill_success{${L}}`)).toBe(0);
    expect(t.get(`backupper_failures_total{${L},operation="drill",code="${drill.error!.code}"}`)).toBe(1);
    expect(t.get(`backupper_failures_total{${L},operation="backup",code="SOURCE"}`)).toBe(2);
  });

  it("escapes backslash, double quote and line feed in label values (a prefix may hold them)", () => {
    const b = createBackupper({ adapter: memoryAdapter(), source: bytesSource(new Uint8Array(), { name: "q" }), prefix: 'a\\b"c\nd/' });
    const line = b.metrics().split("\n").find((l) => l.startsWith("backupper_backup_running"))!;
    expect(line).toBe('backupper_backup_running{name="q",prefix="a\\\\b\\"c\\nd/"} 0');
  });

  it("is also what status() says: each family reads the same fields", async () => {
    const b = createBackupper({ adapter: memoryAdapter(), source: bytesSource(randomBytes(100), { name: "q" }) });
    await b.backup();
    const status = b.status();
    const s = samples(b.metrics());
    expect(s.get(`backupper_last_success_timestamp_seconds{${L}}`)).toBe(status.lastSuccess!.time.getTime() / 1000);
    expect(s.get(`backupper_backups{${L}}`)).toBe(status.backups);
  });
});
