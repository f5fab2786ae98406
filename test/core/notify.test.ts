/**
 * Alerts (`notify`) against a real local HTTP server: webhook and ping delivery, retries on 5xx,
 * a timeout on a server that never answers, a dead endpoint, and in every case the backup
 * itself unaffected: it resolves first, and succeeds.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { hostname } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { ConfigError } from "../../src/errors.js";
import { createEmitter } from "../../src/events.js";
import { bytesSource, createBackupper, streamSource } from "../../src/index.js";
import { notifyOn } from "../../src/notify/listen.js";
import { createNotifier } from "../../src/notify/notifier.js";
import { resolveNotify, type NotifyOptions } from "../../src/notify/options.js";

interface Hit {
  path: string;
  body: Record<string, unknown>;
  at: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.map((s) => {
      const closed = new Promise((resolve) => s.close(resolve));
      s.closeAllConnections();
      return closed;
    }),
  );
  servers = [];
});

/** A local endpoint answering by `handle` (200 by default), recording what reached it. */
async function endpoint(handle: Handler = (_q, res) => res.end("ok")) {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      hits.push({ path: req.url ?? "", body: JSON.parse(text || "{}") as Record<string, unknown>, at: Date.now() });
      handle(req, res, hits.length);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { hits, url: `http://127.0.0.1:${port}`, server };
}

/** A port nothing listens on. */
async function deadUrl(): Promise<string> {
  const { url, server } = await endpoint();
  await new Promise((resolve) => server.close(resolve));
  servers = servers.filter((s) => s !== server);
  return url;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitFor(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const TOKEN = "f0e9d8c7-0000-4000-8000-00000000beef";

function backupperWith(notify: NotifyOptions, source = bytesSource(new Uint8Array(100), { name: "queue" })) {
  return createBackupper({ adapter: memoryAdapter(), source, notify });
}

const failingSource = () =>
  streamSource(
    () =>
      new ReadableStream<Uint8Array>({
        pull: (c) => c.error(new Error("disk on fire")),
      }),
    { name: "queue" },
  );

describe("notify: webhook", () => {
  it("posts a small JSON document for a success and for a failure, with the host and no secret", async () => {
    const { hits, url } = await endpoint();
    const ok = backupperWith({ url: `${url}/hook/${TOKEN}`, on: ["success", "failure"] });
    const info = await ok.backup();
    const bad = backupperWith({ url: `${url}/hook/${TOKEN}`, on: ["success", "failure"] }, failingSource());
    await expect(bad.backup()).rejects.toThrow(/disk on fire/);
    await waitFor("two notifications", () => hits.length === 2);
    const [success, failure] = [hits.find((h) => h.body.event === "success")!, hits.find((h) => h.body.event === "failure")!];
    expect(success.path).toBe(`/hook/${TOKEN}`);
    expect(success.body).toEqual({ event: "success", name: "queue", prefix: "backups/", key: info.key, operation: "backup", error: null, time: expect.any(String), host: hostname() });
    expect(failure.body).toMatchObject({ event: "failure", operation: "backup", error: { code: "SOURCE", message: expect.stringContaining("disk on fire") } });
    expect(Date.parse(failure.body.time as string)).toBeGreaterThan(Date.now() - 60_000);
    for (const hit of hits) expect(JSON.stringify(hit.body)).not.toContain(TOKEN);
  });

  it("sends only what `on` names: by default failures, not successes", async () => {
    const { hits, url } = await endpoint();
    await backupperWith({ url }).backup();
    await expect(backupperWith({ url }, failingSource()).backup()).rejects.toThrow();
    await waitFor("the failure", () => hits.length === 1);
    await sleep(100);
    expect(hits.map((h) => h.body.event)).toEqual(["failure"]);
  });

  it("reports a failed drill (a `failed` event of operation drill) as drill-failure", async () => {
    const { hits, url } = await endpoint();
    const emitter = createEmitter();
    const notifier = createNotifier(resolveNotify({ url, on: ["drill-failure"] })!, { name: "queue", prefix: "backups/" });
    notifyOn(emitter, notifier);
    const error = new ConfigError("x", "integrity_check failed");
    emitter.emit("failed", { operation: "drill" as "backup", key: "backups/k", error, scheduled: false });
    emitter.emit("failed", { operation: "backup", key: "backups/k", error, scheduled: false });
    await notifier.idle();
    expect(hits.map((h) => h.body)).toEqual([expect.objectContaining({ event: "drill-failure", operation: "drill", key: "backups/k" })]);
  });
});

describe("notify: healthchecks.io-style ping", () => {
  it("pings <url> on success and <url>/fail on failure, successes included by default", async () => {
    const { hits, url } = await endpoint();
    const ping = `${url}/ping/${TOKEN}/`;
    await backupperWith({ url: ping, style: "ping" }).backup();
    await expect(backupperWith({ url: ping, style: "ping" }, failingSource()).backup()).rejects.toThrow();
    await waitFor("two pings", () => hits.length === 2);
    expect(hits.map((h) => [h.body.event, h.path]).sort()).toEqual([
      ["failure", `/ping/${TOKEN}/fail`],
      ["success", `/ping/${TOKEN}/`],
    ]);
  });

  it("is the style of hc-ping.com URLs unless told otherwise", () => {
    expect(resolveNotify({ url: `https://hc-ping.com/${TOKEN}` })!.style).toBe("ping");
    expect(resolveNotify({ url: `https://hc-ping.com/${TOKEN}` })!.on).toEqual(new Set(["success", "failure", "drill-failure", "stale"]));
    expect(resolveNotify({ url: `https://hooks.example.com/${TOKEN}` })!.style).toBe("webhook");
    expect(resolveNotify({ url: `https://hc-ping.com/${TOKEN}`, style: "webhook" })!.style).toBe("webhook");
  });
});

describe("notify: delivery never holds up or fails the backup", () => {
  it("retries a 500 with backoff and delivers on the third attempt", async () => {
    const { hits, url } = await endpoint((_q, res, n) => {
      res.statusCode = n < 3 ? 500 : 200;
      res.end();
    });
    const errors: Error[] = [];
    const b = backupperWith({ url, on: ["success"], onError: (e) => errors.push(e) });
    await b.backup();
    await waitFor("three attempts", () => hits.length === 3);
    await sleep(100);
    expect(hits).toHaveLength(3);
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(200);
    expect(hits[2]!.at - hits[1]!.at).toBeGreaterThan(hits[1]!.at - hits[0]!.at - 300);
    expect(errors).toEqual([]);
  });

  it("gives up after the retries on a server that keeps answering 500, and says so without the URL", async () => {
    const { hits, url } = await endpoint((_q, res) => {
      res.statusCode = 503;
      res.end();
    });
    const errors: Error[] = [];
    await backupperWith({ url: `${url}/${TOKEN}`, on: ["success"], retries: 2, onError: (e) => errors.push(e) }).backup();
    await waitFor("the error", () => errors.length === 1);
    expect(hits).toHaveLength(3);
    expect(errors[0]!.message).toMatch(/not delivered \(HTTP 503\)/);
    expect(errors[0]!.message).not.toContain(TOKEN);
    expect(errors[0]!.message).not.toContain("127.0.0.1");
  });

  it.each([404, 501])("does not retry a %i that another attempt would get again", async (status) => {
    const { hits, url } = await endpoint((_q, res) => {
      res.statusCode = status;
      res.end();
    });
    const errors: Error[] = [];
    await backupperWith({ url, on: ["success"], onError: (e) => errors.push(e) }).backup();
    // The error is reported once the notifier gave up, so every attempt it made has arrived.
    await waitFor("the error", () => errors.length === 1);
    expect(hits).toHaveLength(1);
    expect(errors[0]!.message).toMatch(new RegExp(`HTTP ${status}`));
  });

  it("times out each attempt on a server that never answers; the backup resolved long before", async () => {
    const { hits, url } = await endpoint(() => undefined);
    const errors: Error[] = [];
    const b = backupperWith({ url, on: ["success"], timeoutMs: 300, retries: 1, onError: (e) => errors.push(e) });
    const started = Date.now();
    await b.backup();
    const backupMs = Date.now() - started;
    await waitFor("the error", () => errors.length === 1);
    const notifyMs = Date.now() - started;
    expect(hits).toHaveLength(2);
    expect(errors[0]!.message).toMatch(/no answer within 300 ms/);
    expect(backupMs).toBeLessThan(notifyMs);
    expect(notifyMs).toBeGreaterThanOrEqual(600);
  });

  it("a dead endpoint: the backup succeeds, the notification fails with the connection's error code", async () => {
    const url = await deadUrl();
    const errors: Error[] = [];
    const b = backupperWith({ url: `${url}/${TOKEN}`, on: ["success", "failure"], retries: 1, onError: (e) => errors.push(e) });
    const info = await b.backup();
    expect((await b.list()).map((x) => x.key)).toEqual([info.key]);
    await waitFor("the error", () => errors.length === 1);
    expect(errors[0]!.message).toMatch(/could not be reached \(ECONNREFUSED\)/);
    expect(errors[0]!.message).not.toContain(TOKEN);
  });

  it("idle() waits for deliveries in flight, and resolves at once when there are none", async () => {
    const { hits, url } = await endpoint((_q, res) => setTimeout(() => res.end(), 300));
    const notifier = createNotifier(resolveNotify({ url, on: ["stale"] })!, { name: "queue", prefix: "backups/" });
    await notifier.idle();
    notifier.send("stale", { error: { code: "STALE", message: "no verified backup" } });
    notifier.send("success", {});
    await notifier.idle();
    expect(hits.map((h) => h.body.event)).toEqual(["stale"]);
  });

  it("passes error messages through the redactor it is given", async () => {
    const { hits, url } = await endpoint();
    const notifier = createNotifier(resolveNotify({ url, on: ["failure"] })!, { name: "queue", prefix: "backups/" }, (t) => t.replaceAll("hunter2", "***"));
    notifier.send("failure", { operation: "backup", error: { code: "ADAPTER", message: "denied for hunter2" } });
    await notifier.idle();
    expect(hits[0]!.body.error).toEqual({ code: "ADAPTER", message: "denied for ***" });
  });
});

describe("notify options", () => {
  it.each([
    [{ url: "ftp://x/" }, "notify.url"],
    [{ url: `not a url ${TOKEN}` }, "notify.url"],
    [{ url: "https://x/", on: ["sometimes"] }, "notify.on"],
    [{ url: "https://x/", style: "smoke" }, "notify.style"],
    [{ url: "https://x/", timeoutMs: 0 }, "notify.timeoutMs"],
    [{ url: "https://x/", retries: 11 }, "notify.retries"],
    ["https://x/", "notify"],
  ])("refuses %j naming %s, never echoing the URL", (notify, option) => {
    const create = () => createBackupper({ adapter: memoryAdapter(), source: bytesSource(new Uint8Array(1)), notify: notify as never });
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(new RegExp(`^${option}: `));
    expect(create).not.toThrow(new RegExp(TOKEN));
  });
});
