/**
 * A snapshot's integrity check on a worker thread, so that it runs while the snapshot uploads
 * instead of before it: the drivers are synchronous, and on the thread that streams the
 * backup `quick_check` would stop the upload for its whole run (0.35 s of a 512 MiB backup
 * that takes 3-4 s, bench/PROFILE.md). The worker loads the runtime's own driver by the module
 * the source loaded it from; where it cannot (a worker that does not start, a module it cannot
 * import), `checkOnThread` says so and the caller checks on its own thread, as before.
 */
import { Worker } from "node:worker_threads";
import { messageOf } from "../../errors.js";
import { MAX_PROBLEMS, problemsIn } from "./check.js";
import { pickExport, type DriverModule } from "./driver.js";

export interface CheckThread {
  /** What the check reports (empty when it says "ok"); a driver error while reading is itself a problem. */
  problems: Promise<string[]>;
  /** Ends the check early (the backup was aborted or released); resolves once the worker has let go of the file. */
  stop(): Promise<void>;
}

/** Runs as CommonJS (`eval`), so it needs no file of its own next to the bundle. */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const pickExport = ${pickExport.toString()};
(async () => {
  const { module, file, sql } = workerData;
  let db;
  try {
    db = new (pickExport(await import(module.specifier), module.exportName))(file, module.readOnly);
  } catch {
    parentPort.postMessage({ unavailable: true });
    return;
  }
  parentPort.postMessage({ opened: true });
  try {
    parentPort.postMessage({ rows: db.prepare(sql).all().map((row) => String(Object.values(row)[0])) });
  } catch (error) {
    parentPort.postMessage({ rows: [String((error && error.message) || error)] });
  } finally {
    db.close();
  }
})();
`;

type Reply = { unavailable: true } | { opened: true } | { rows: string[] };

/**
 * Starts `PRAGMA <pragma>` on `file` in a worker. Resolves once the worker has the file open
 * (the caller may unlink it then), or to undefined when no worker can check it.
 */
export async function checkOnThread(module: DriverModule, file: string, pragma: string): Promise<CheckThread | undefined> {
  let worker: Worker;
  try {
    worker = new Worker(WORKER, { eval: true, workerData: { module, file, sql: `PRAGMA ${pragma}(${MAX_PROBLEMS})` } });
  } catch {
    return undefined;
  }
  let isOpen = false;
  let opened!: (ok: boolean) => void;
  const open = new Promise<boolean>((resolve) => (opened = resolve));
  const problems = new Promise<string[]>((resolve) => {
    // Before the file is open, any failure means only that this worker cannot check it.
    const fail = (problem: string) => (isOpen ? resolve([problem]) : opened(false));
    worker.on("message", (reply: Reply) => {
      if ("unavailable" in reply) opened(false);
      else if ("opened" in reply) opened((isOpen = true));
      else resolve(problemsIn(reply.rows));
    });
    worker.on("error", (error) => fail(`the check's worker failed: ${messageOf(error)}`));
    worker.on("exit", (code) => fail(`the check's worker exited (code ${code}) before it reported`));
  });
  if (!(await open)) {
    await worker.terminate();
    return undefined;
  }
  // A VACUUM INTO copy is in rollback-journal mode, so a read-only connection leaves no -wal/-shm behind.
  return { problems, stop: () => worker.terminate().then(() => undefined) };
}
