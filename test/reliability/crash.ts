/**
 * The crash matrix, shared by the fs and the Ceph RGW test files: a child process running the
 * built package (test/fixtures/crash-child.mjs) is SIGKILLed at one deterministic point, then
 * the parent checks, with the library as a user would, that nothing was lost and the next run
 * recovers.
 */

import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createBackupper, type Backupper } from "../../src/index.js";
import { fileSource } from "../../src/fs.js";
import { fileTarget } from "../../src/sources/file.js";
import type { BackupInfo, StorageAdapter } from "../../src/types.js";
import { listKeys } from "../helpers/fixtures.js";
import { ledger } from "./ledger.js";

const MiB = 1024 * 1024;
const CHILD = join(import.meta.dirname, "../fixtures/crash-child.mjs");
const PREFIX = "backups/";
const NAME = "crash";

export type StoreKind = "fs" | "rgw";

/** A fresh store for one scenario: the parent's adapter, the child's store config, and what it leaves behind outside `list()`. */
export interface CrashStore {
  adapter: StorageAdapter;
  child: { kind: "fs"; root: string } | { kind: "s3"; options: Record<string, unknown> };
  /** Open multipart uploads (S3) or temp files of interrupted puts (fs). */
  orphans(): Promise<number>;
  cleanup(): Promise<void>;
}

type Kill = { at: string; n?: number; bytes?: number };

interface Scenario {
  name: string;
  stores: StoreKind[];
  op: "backup" | "prune" | "restore";
  kill: Kill;
  /** Complete backups made before the child runs. */
  seeds: number;
  /** Retention the child runs with. */
  retention?: number;
  /** Child's incompleteGrace (default: the library's). */
  incompleteGrace?: number;
  small?: boolean;
  /** Plants a data object without metadata before the child runs. */
  plantIncomplete?: boolean;
  /** Backups `list()` must show after the kill: exact, or an inclusive range when the kill races a request on the wire. */
  listed: number | [number, number];
  /** For restores: the target must hold the old bytes, the new ones, or (racing) either. */
  target?: "before" | "restored";
  expected: string;
}

const SCENARIOS: Scenario[] = [
  { name: "backup: killed while reading the source (3 MiB in)", stores: ["fs", "rgw"], op: "backup", kill: { at: "source-bytes", bytes: 3 * MiB }, seeds: 1, listed: 1, expected: "no new backup; old one intact" },
  { name: "backup: killed 7 MiB into the data upload", stores: ["fs", "rgw"], op: "backup", kill: { at: "put-bytes", n: 1, bytes: 7 * MiB }, seeds: 1, listed: 1, expected: "no new backup; old one intact" },
  { name: "backup: killed mid-part (part 2 on the wire)", stores: ["rgw"], op: "backup", kill: { at: "part:during", n: 2 }, seeds: 1, listed: 1, expected: "no new backup; upload orphaned" },
  { name: "backup: killed between parts (part 1 acknowledged)", stores: ["rgw"], op: "backup", kill: { at: "part:after", n: 1 }, seeds: 1, listed: 1, expected: "no new backup; upload orphaned" },
  { name: "backup: killed before CompleteMultipartUpload", stores: ["rgw"], op: "backup", kill: { at: "complete:before" }, seeds: 1, listed: 1, expected: "no new backup; upload orphaned" },
  { name: "backup: killed with CompleteMultipartUpload on the wire", stores: ["rgw"], op: "backup", kill: { at: "complete:during" }, seeds: 1, listed: 1, expected: "no new backup (data without marker is incomplete)" },
  { name: "backup: killed after the data object, before the metadata", stores: ["fs", "rgw"], op: "backup", kill: { at: "put-start", n: 2 }, seeds: 1, listed: 1, expected: "no new backup; incomplete data cleaned next run" },
  { name: "backup: killed with half the metadata written", stores: ["fs", "rgw"], op: "backup", kill: { at: "put-bytes", n: 2, bytes: 100 }, seeds: 1, listed: 1, expected: "no new backup; incomplete data cleaned next run" },
  { name: "backup: killed with the metadata PUT on the wire", stores: ["rgw"], op: "backup", kill: { at: "single-put:during", n: 1 }, seeds: 1, listed: [1, 2], expected: "new backup complete or absent, never half" },
  { name: "backup: killed with a single-PUT data upload on the wire", stores: ["rgw"], op: "backup", small: true, kill: { at: "single-put:during", n: 1 }, seeds: 1, listed: 1, expected: "no new backup" },
  { name: "backup: killed after the commit marker, before retention", stores: ["fs", "rgw"], op: "backup", retention: 1, kill: { at: "delete-start", n: 1 }, seeds: 1, listed: 2, expected: "new backup complete; nothing pruned" },
  { name: "prune: killed before the first delete", stores: ["fs", "rgw"], op: "prune", retention: 1, kill: { at: "delete-start", n: 1 }, seeds: 3, listed: 3, expected: "all backups intact" },
  { name: "prune: killed between the metadata delete and the data delete", stores: ["fs", "rgw"], op: "prune", retention: 1, kill: { at: "delete-start", n: 2 }, seeds: 3, listed: 1, expected: "newest kept; orphaned data cleaned next run" },
  { name: "prune: killed part-way through a delete batch", stores: ["fs", "rgw"], op: "prune", retention: 1, kill: { at: "delete-partial", n: 1 }, seeds: 3, listed: 2, expected: "newest kept; rest consistent" },
  { name: "prune: killed with DeleteObjects on the wire", stores: ["rgw"], op: "prune", retention: 1, kill: { at: "bulk-delete:during", n: 1 }, seeds: 3, listed: [1, 3], expected: "newest kept; rest consistent" },
  { name: "prune: killed during incomplete-object cleanup", stores: ["fs", "rgw"], op: "prune", retention: 1, incompleteGrace: 0, plantIncomplete: true, kill: { at: "delete-partial", n: 2 }, seeds: 3, listed: 1, expected: "newest kept; leftovers cleaned next run" },
  { name: "restore: killed with the download broken off at 4 MiB", stores: ["fs", "rgw"], op: "restore", kill: { at: "get-bytes", bytes: 4 * MiB }, seeds: 1, listed: 1, target: "before", expected: "target byte-identical to before" },
  { name: "restore: killed with 6 MiB staged", stores: ["fs", "rgw"], op: "restore", kill: { at: "write-bytes", bytes: 6 * MiB }, seeds: 1, listed: 1, target: "before", expected: "target byte-identical to before" },
  { name: "restore: killed after verification, before the rename", stores: ["fs", "rgw"], op: "restore", kill: { at: "commit:before" }, seeds: 1, listed: 1, target: "before", expected: "target byte-identical to before" },
  { name: "restore: killed right after the rename", stores: ["fs", "rgw"], op: "restore", kill: { at: "commit:after" }, seeds: 1, listed: 1, target: "restored", expected: "target fully restored and verified" },
];

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function runChild(config: unknown): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CHILD, JSON.stringify(config)], { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      const e = error as (Error & { signal?: NodeJS.Signals; code?: number }) | null;
      resolve({ signal: e?.signal ?? null, code: e ? (e.code ?? null) : 0, stdout, stderr });
    });
  });
}

/** Keys that are not half of a data+metadata pair. */
function unpaired(keys: string[]): string[] {
  const set = new Set(keys);
  return keys.filter((k) => (k.endsWith(".meta.json") ? !set.has(k.slice(0, -".meta.json".length)) : !set.has(`${k}.meta.json`)));
}

async function restoreTemps(dir: string): Promise<number> {
  return (await readdir(dir)).filter((f) => /\.restore-[0-9a-f]{12}$/.test(f)).length;
}

export interface CrashTotals {
  /** Leftovers (open multipart uploads / put temp files) still there after the next run. */
  orphansAfterNextRun: Map<string, number>;
  /** Restore temp files left next to the target after the next run. */
  restoreTempsLeft: Map<string, number>;
}

/** Registers one test per scenario for `kind`. */
export function crashSuite(kind: StoreKind, makeStore: () => Promise<CrashStore>, file: string): CrashTotals {
  const log = ledger(file);
  const totals: CrashTotals = { orphansAfterNextRun: new Map(), restoreTempsLeft: new Map() };
  let dir: string;
  let big: Uint8Array;
  let small: Uint8Array;
  beforeAll(async () => {
    if (!existsSync(join(import.meta.dirname, "../../dist/index.js"))) throw new Error("dist/ is missing: run `npm run build` (npm test does)");
    dir = await mkdtemp(join(tmpdir(), `backupper-crash-${kind}-`));
    // Random bytes: gzip cannot shrink them, so the stored object really spans three 5 MiB parts.
    big = new Uint8Array(randomBytes(12 * MiB + 4321));
    small = new Uint8Array(randomBytes(64 * 1024));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  SCENARIOS.filter((s) => s.stores.includes(kind)).forEach((s, index) => {
    it(`${kind}: ${s.name}`, async () => {
      const store = await makeStore();
      try {
        const sourceBytes = s.small ? small : big;
        const sourcePath = join(dir, `source-${index}.bin`);
        await writeFile(sourcePath, sourceBytes);
        const parent: Backupper = createBackupper({
          adapter: store.adapter,
          source: fileSource(sourcePath, { name: NAME }),
          retention: 100,
          incompleteGrace: 0,
          compressionLevel: 1,
        });

        const seeds: BackupInfo[] = [];
        for (let i = 0; i < s.seeds; i++) seeds.push(await parent.backup());
        if (s.plantIncomplete) {
          await store.adapter.put(`${PREFIX}${NAME}-2020-01-01T00-00-00-000Z-planted1.db.gz`, new Uint8Array(randomBytes(1000)));
        }
        const targetPath = join(dir, `target-${index}`, "queue.db");
        const before = new Uint8Array(randomBytes(MiB + 17));
        if (s.op === "restore") {
          await mkdir(dirname(targetPath), { recursive: true });
          await writeFile(targetPath, before);
        }

        const child = await runChild({
          store: store.child,
          op: s.op,
          source: sourcePath,
          key: seeds[0]?.key,
          target: targetPath,
          retention: s.retention,
          incompleteGrace: s.incompleteGrace,
          kill: s.kill,
        });
        expect(child.stdout, `the kill point was never reached; child stderr: ${child.stderr}`).not.toContain("survived");
        expect(child.signal, child.stderr).toBe("SIGKILL");

        // 1. Only complete, verifiable backups are listed, and every one that had to survive did.
        const listed = await parent.list();
        const [min, max] = typeof s.listed === "number" ? [s.listed, s.listed] : s.listed;
        expect(listed.length).toBeGreaterThanOrEqual(min);
        expect(listed.length).toBeLessThanOrEqual(max);
        for (const info of listed) {
          expect(info.verified, `${info.key}: ${info.problem}`).toBe(true);
          await parent.verify(info.key);
        }
        const mustSurvive = s.op === "prune" ? seeds.slice(-1) : seeds;
        const listedKeys = new Set(listed.map((l) => l.key));
        let bytesLost = mustSurvive.filter((seed) => !listedKeys.has(seed.key)).reduce((n, seed) => n + (seed.size ?? 0), 0);
        expect(bytesLost).toBe(0);

        // 2. A restore target is the old file or the fully restored one, never a mix.
        let targetState = "";
        if (s.op === "restore") {
          const now = new Uint8Array(await readFile(targetPath));
          const want = s.target === "restored" ? sourceBytes : before;
          if (sha256(now) !== sha256(want)) bytesLost += now.byteLength;
          expect(sha256(now), "restore target").toBe(sha256(want));
          targetState = s.target === "restored" ? "target fully restored" : "target byte-identical";
        }

        const keysAfterKill = await listKeys(store.adapter, PREFIX);
        const incomplete = unpaired(keysAfterKill).length;
        const orphansAfterKill = await store.orphans();

        // 3. The next run succeeds, cleans every incomplete object, and its backup restores byte-identical.
        const next = await parent.backup();
        const keysAfterNext = await listKeys(store.adapter, PREFIX);
        expect(unpaired(keysAfterNext), "incomplete objects after the next run").toEqual([]);
        expect(keysAfterNext).toHaveLength(2 * (listed.length + 1));
        const check = join(dir, `check-${index}.db`);
        await parent.restore(next.key, { to: fileTarget(check) });
        expect(sha256(new Uint8Array(await readFile(check)))).toBe(sha256(sourceBytes));

        const orphansAfterNext = await store.orphans();
        totals.orphansAfterNextRun.set(s.name, orphansAfterNext);
        const temps = s.op === "restore" ? await restoreTemps(dirname(targetPath)) : 0;
        totals.restoreTempsLeft.set(s.name, temps);
        const leftovers = [
          orphansAfterKill ? `${orphansAfterKill} ${kind === "fs" ? "put temp file" : "multipart upload"}(s) left by the kill, ${orphansAfterNext} after the next run` : "",
          temps ? `${temps} restore temp file(s) left next to the target` : "",
        ].filter(Boolean);
        log.record({
          kind: "crash",
          scenario: `${kind}: ${s.name}`,
          expected: s.expected,
          observed: [
            `SIGKILL; ${listed.length} listed, all verified`,
            targetState,
            incomplete ? `${incomplete} incomplete object(s) → cleaned by next run` : "",
            "next backup + restore OK",
            ...leftovers,
          ].filter(Boolean).join("; "),
          faults: 1,
          bytesLost,
        });
      } finally {
        await store.cleanup();
      }
    }, 120_000);
  });
  return totals;
}
