/**
 * Alerts from the real bin (`node dist/cli.js`, a local directory destination) to a local HTTP
 * server: `now` waits for a slow endpoint before it exits so the alert is not lost, a dead
 * endpoint leaves the backup's exit code alone, `status --max-age` sends `stale`, and the URL
 * (which carries a token) appears in no output.
 */
import { createServer, type Server } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBin, type BinResult } from "../helpers/bin.js";

const CLI = resolve(__dirname, "../../dist/cli.js");
const TOKEN = "0b1c2d3e-aaaa-4bbb-8ccc-dddddddddddd";

interface Result extends BinResult {
  ms: number;
}

let work: string;
let env: Record<string, string>;
const outputs: string[] = [];

async function cli(args: string[], extra: Record<string, string>): Promise<Result> {
  const started = Date.now();
  const result = await runBin(process.execPath, [CLI, ...args], { env: { ...env, ...extra } });
  outputs.push(result.stdout, result.stderr);
  return { ...result, ms: Date.now() - started };
}

/** An endpoint answering 200 after `delayMs`, recording each alert's path, body and arrival. */
async function endpoint(delayMs: number) {
  const hits: Array<{ path: string; body: Record<string, unknown>; answeredAt: number }> = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () =>
      setTimeout(() => {
        hits.push({ path: req.url ?? "", body: JSON.parse(text) as Record<string, unknown>, answeredAt: Date.now() });
        res.end("ok");
      }, delayMs),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { hits, url: `http://127.0.0.1:${port}/hook/${TOKEN}`, close: () => new Promise((r) => server.close(r)) };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "backupper-notify-bin-"));
  await writeFile(join(work, "queue.bin"), "some data");
  env = { BACKUP_DIR: join(work, "store"), BACKUP_SOURCE: join(work, "queue.bin") };
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
  for (const text of outputs) expect(text).not.toContain(TOKEN);
});

describe("alerts from the bin", () => {
  it("now waits for a slow endpoint before exiting, so the success alert is delivered", async () => {
    const server = await endpoint(700);
    try {
      const started = Date.now();
      const result = await cli(["now", "--json"], { BACKUP_NOTIFY_URL: server.url, BACKUP_NOTIFY_ON: "success,failure" });
      expect(result.code, result.stderr).toBe(0);
      expect(server.hits).toHaveLength(1);
      expect(server.hits[0]!.answeredAt).toBeLessThanOrEqual(started + result.ms);
      expect(server.hits[0]!.body).toMatchObject({ event: "success", name: "queue", key: (JSON.parse(result.stdout) as { backup: { key: string } }).backup.key });
    } finally {
      await server.close();
    }
  });

  it("a failed backup sends failure and still exits with the backup's own code", async () => {
    const server = await endpoint(0);
    try {
      const result = await cli(["now"], { BACKUP_NOTIFY_URL: server.url, BACKUP_SOURCE: join(work, "absent.bin") });
      expect(result.code).toBe(9);
      expect(server.hits.map((h) => h.body.event)).toEqual(["failure"]);
      expect(server.hits[0]!.body).toMatchObject({ error: { code: "SOURCE" } });
    } finally {
      await server.close();
    }
  });

  it("a dead endpoint: the backup exits 0, the alert is warned about without the URL", async () => {
    const server = await endpoint(0);
    await server.close();
    const result = await cli(["now"], { BACKUP_NOTIFY_URL: server.url, BACKUP_NOTIFY_ON: "success" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/notification "success" for queue not delivered \(the endpoint could not be reached \(ECONNREFUSED\)\)/);
  });

  it("status --max-age sends stale when the newest verified backup is too old", async () => {
    const server = await endpoint(0);
    try {
      const result = await cli(["status", "--max-age", "1ms"], { BACKUP_NOTIFY_URL: server.url, BACKUP_NOTIFY_STYLE: "ping" });
      expect(result.code).toBe(8);
      expect(server.hits.map((h) => [h.body.event, h.path])).toEqual([["stale", `/hook/${TOKEN}/fail`]]);
      expect(server.hits[0]!.body).toMatchObject({ operation: "status", error: { code: "STALE" } });
    } finally {
      await server.close();
    }
  });
});
