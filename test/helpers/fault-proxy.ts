/**
 * A TCP proxy between a client and a real server (Ceph RGW) that injects the faults of a real
 * outage at the socket level, where msw cannot reach: connections refused (nothing listens on the
 * port, as while a gateway restarts), open connections reset (the gateway process killed), a reset
 * after a number of bytes of a request or a response (a part's body or a download cut in the
 * middle), a stall (connections stay open and nothing moves), and traffic passing again on command.
 *
 * ```ts
 * const proxy = await faultProxy(server.endpoint);   // s3Adapter({ endpoint: proxy.endpoint })
 * await proxy.refuse();  … await proxy.pass();
 * ```
 */

import { connect, createServer, type Server, type Socket } from "node:net";

type Direction = "request" | "response";

interface Connection {
  client: Socket;
  upstream: Socket;
  /** Bytes carried in each direction since the connection opened or a reset was armed. */
  carried: Record<Direction, number>;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT`: the endpoint to give the client. */
  readonly endpoint: string;
  /** Connections accepted, and connections reset by a fault, so far. */
  readonly stats: { connections: number; resets: number };
  /** Stops listening (new connections are refused: ECONNREFUSED) and resets every open one. */
  refuse(): Promise<void>;
  /** Resolves once `bytes` more bytes of requests (or of responses) have passed, over all connections: when to start an outage. */
  after(direction: Direction, bytes: number): Promise<void>;
  /** Resets the first connection that carries `bytes` more bytes of requests (or of responses) from now on; resolves when it did. */
  resetAfter(direction: Direction, bytes: number): Promise<void>;
  /** Keeps every connection, open and new, open and silent: nothing is forwarded either way. */
  stall(): void;
  /** Listens and forwards again; stalled connections carry on where they stopped. */
  pass(): Promise<void>;
  close(): Promise<void>;
}

export async function faultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port: targetPort } = new URL(target);
  const connections = new Set<Connection>();
  const stats = { connections: 0, resets: 0 };
  let stalled = false;
  let armed: { direction: Direction; bytes: number; done: () => void } | undefined;
  const waits: Array<{ direction: Direction; left: number; done: () => void }> = [];
  let server: Server | undefined;
  let port = 0;

  const reset = (c: Connection) => {
    connections.delete(c);
    stats.resets++;
    c.client.resetAndDestroy();
    c.upstream.destroy();
  };

  const forward = (c: Connection, from: Socket, to: Socket, direction: Direction) => {
    from.on("data", (chunk: Buffer) => {
      c.carried[direction] += chunk.length;
      for (const w of [...waits]) {
        if (w.direction !== direction || (w.left -= chunk.length) > 0) continue;
        waits.splice(waits.indexOf(w), 1);
        w.done();
      }
      if (armed?.direction === direction && c.carried[direction] >= armed.bytes) {
        const { done } = armed;
        armed = undefined;
        reset(c);
        done();
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once("drain", () => {
          if (!stalled) from.resume();
        });
      }
    });
  };

  const accept = (client: Socket) => {
    stats.connections++;
    const upstream = connect(Number(targetPort), hostname);
    const c: Connection = { client, upstream, carried: { request: 0, response: 0 } };
    connections.add(c);
    const drop = () => {
      connections.delete(c);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on("error", drop);
      socket.on("close", drop);
    }
    forward(c, client, upstream, "request");
    forward(c, upstream, client, "response");
    if (stalled) for (const socket of [client, upstream]) socket.pause();
  };

  const listen = async () => {
    const s = createServer(accept);
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    port = (s.address() as { port: number }).port;
    server = s;
  };

  const unlisten = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const c of [...connections]) reset(c);
    await closed;
  };

  await listen();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    refuse: unlisten,
    after: (direction, bytes) => new Promise((done) => void waits.push({ direction, left: bytes, done })),
    resetAfter(direction, bytes) {
      for (const c of connections) c.carried[direction] = 0;
      return new Promise((done) => (armed = { direction, bytes, done }));
    },
    stall() {
      stalled = true;
      for (const c of connections) for (const socket of [c.client, c.upstream]) socket.pause();
    },
    async pass() {
      stalled = false;
      for (const c of connections) for (const socket of [c.client, c.upstream]) socket.resume();
      if (!server) await listen();
    },
    async close() {
      await unlisten();
    },
  };
}
