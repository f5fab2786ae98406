/**
 * Review finding 5 through the built bin (`node dist/cli.js … --dir`): `status --max-age` must not
 * be satisfied by a key dated 2099 or by a metadata-less object dated now, and `list` / `status`
 * flag future-dated keys in text and JSON. Keys are planted through the fs adapter.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fsAdapter } from "../../src/adapters/fs.js";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { runBin } from "../helpers/bin.js";
import { DAY, in2099, plantBackup, plantJunk } from "../helpers/planted.js";
import { ledger } from "../reliability/ledger.js";

const CLI = resolve(__dirname, "../../dist/cli.js");
const log = ledger(import.meta.filename);

let work: string;
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  work = await mkdtemp(join(tmpdir(), "backupper-review-fresh-cli-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A fresh directory store with a real backup three days old; returns the root, that key and a bin runner on it. */
async function store() {
  const root = await mkdtemp(join(work, "store-"));
  const adapter = fsAdapter({ root, fsync: false });
  const old = await plantBackup(adapter, "queue", new Date(Date.now() - 3 * DAY));
  const run = (...args: string[]) => runBin(process.execPath, [CLI, ...args, "--dir", root, "--name", "queue"], { cwd: work });
  return { adapter, old, run };
}

describe("future-dated and metadata-less keys through the bin (--dir)", () => {
  it("one key dated 2099 + a 3-day-old set: status --max-age 1d is STALE (exit 8), and says why", async () => {
    const { adapter, old, run } = await store();
    const future = await plantBackup(adapter, "queue", in2099(1)[0]!);

    const human = await run("status", "--max-age", "1d");
    expect(human.code, human.stderr).toBe(EXIT_CODES.STALE);
    expect(human.stdout).toContain(`Newest       ${old}, 3d ago`);
    expect(human.stderr).toMatch(/WARNING: 1 backup is dated more than 5m ahead of this clock .*ignored for freshness and retention/);
    expect(human.stderr).toContain(future);
    expect(human.stderr).toMatch(/STALE: the newest verified backup is 3d(\d+s)? old, more than --max-age 1d/);

    const json = await run("status", "--max-age", "1d", "--json");
    expect(json.code).toBe(EXIT_CODES.STALE);
    expect(json.stderr).toBe("");
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ backups: 2, stale: true, futureDated: [{ key: future, timestamp: "2099-01-01T00:00:00.000Z" }], newest: { key: old, verified: true } });
    expect(doc.newest.ageMs).toBeGreaterThan(3 * DAY - 60_000);

    // Fresh enough for a looser limit: the 2099 key changes nothing either way.
    expect((await run("status", "--max-age", "4d")).code).toBe(EXIT_CODES.OK);
    log.record({
      kind: "review",
      scenario: "bin status --max-age 1d: one key dated 2099 + a 3-day-old backup",
      expected: `exit ${EXIT_CODES.STALE} (STALE), 2099 key flagged`,
      observed: `exit ${human.code}; --json stale ${doc.stale}, futureDated ${doc.futureDated.length}`,
      faults: 1,
      bytesLost: 0,
    });
  });

  it("a metadata-less object dated now does not satisfy --max-age", async () => {
    const { adapter, old, run } = await store();
    const junk = await plantJunk(adapter, "queue", new Date());
    const result = await run("status", "--max-age", "1d", "--json");
    expect(result.code).toBe(EXIT_CODES.STALE);
    expect(JSON.parse(result.stdout)).toMatchObject({ backups: 2, stale: true, futureDated: [], newest: { key: old } });

    // With the real backup gone, only junk is left: no verified backup at all is stale too.
    await adapter.delete([old, `${old}.meta.json`]);
    const none = await run("status", "--max-age", "1d");
    expect(none.code).toBe(EXIT_CODES.STALE);
    expect(none.stdout).toContain("Newest       none verified");
    expect(none.stderr).toContain("STALE: there is no verified backup (1 listed, each without valid metadata or dated in the future)");
    log.record({
      kind: "review",
      scenario: "bin status --max-age 1d: a metadata-less object dated now (+ a 3-day-old backup, then alone)",
      expected: `exit ${EXIT_CODES.STALE} both times`,
      observed: `exit ${result.code}, then ${none.code} (${junk} ignored)`,
      faults: 1,
      bytesLost: 0,
    });
  });

  it("list flags future-dated keys in text and JSON", async () => {
    const { adapter, old, run } = await store();
    const future = await plantBackup(adapter, "queue", in2099(1)[0]!);

    const json = await run("list", "--json");
    expect(json.code).toBe(EXIT_CODES.OK);
    const listed = JSON.parse(json.stdout) as Array<{ key: string; futureDated: boolean; verified: boolean }>;
    expect(listed.map((b) => [b.key, b.futureDated, b.verified])).toEqual([[future, true, true], [old, false, true]]);

    const text = await run("list");
    const lines = text.stdout.split("\n");
    expect(lines.find((l) => l.startsWith(future))).toMatch(/in the future.*\[dated in the future: kept, ignored by retention and freshness\]$/);
    expect(lines.find((l) => l.startsWith(old))).not.toContain("future");
    log.record({
      kind: "review",
      scenario: "bin list: a key dated 2099",
      expected: "flagged futureDated in JSON and in text",
      observed: `JSON futureDated ${listed[0]!.futureDated}; text flag ${lines.some((l) => l.includes("[dated in the future"))}`,
      faults: 1,
      bytesLost: 0,
    });
  });
});
