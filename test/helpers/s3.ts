/**
 * S3 test servers for any test file: `s3TestAdapter("rgw" | "s3rver")` gives an adapter on a
 * fresh bucket of that server (and removes the bucket with `cleanup()`); `rawS3` signs
 * requests outside the adapter, to check what the server really holds.
 */

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AwsClient } from "aws4fetch";
import { inject, type describe } from "vitest";
import { s3Adapter, type S3AdapterOptions } from "../../src/adapters/s3.js";
import type { StorageAdapter } from "../../src/types.js";
import type { S3TestServer } from "../setup/s3-context.js";
import { describeUnless } from "./skips.js";

export type S3ServerName = "rgw" | "s3rver";
export type { S3TestServer };

/** Why RGW tests cannot run here, or undefined when RGW is (being) started. */
export function rgwUnavailable(): string | undefined {
  const state = inject("rgw");
  return "unavailable" in state ? state.unavailable : undefined;
}

/** `describeUnless` for a file's suites on Ceph RGW. Unavailable never reaches here under CI=true: the global setup (test/setup/s3.ts) fails the run first. */
export function rgwDescribe(what: string): typeof describe.skip {
  return describeUnless(rgwUnavailable(), what);
}

/**
 * Starts the run's RGW if no worker has yet (the first to create `dir/lock` does), then waits
 * until it is up; rejects with the script's reason if it could not start.
 */
async function rgwServer(timeoutMs = 150_000): Promise<S3TestServer> {
  const state = inject("rgw");
  if ("unavailable" in state) throw new Error(`Ceph RGW unavailable: ${state.unavailable}`);
  try {
    mkdirSync(join(state.dir, "lock"));
    const log = openSync(join(state.dir, "start.log"), "a");
    // Detached: it must outlive this worker; the watchdog ties it to the vitest process instead.
    spawn(state.script, ["start", state.dir], {
      detached: true,
      stdio: ["ignore", "ignore", log],
      env: { ...process.env, CEPH_RGW_OWNER_PID: String(state.owner) },
    }).unref();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(join(state.dir, "failed"))) throw new Error(readFileSync(join(state.dir, "failed"), "utf8"));
    const envFile = join(state.dir, "env");
    if (existsSync(envFile)) {
      const env = Object.fromEntries(
        readFileSync(envFile, "utf8")
          .split("\n")
          .filter((l) => l.includes("="))
          .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
      ) as Record<string, string>;
      return {
        endpoint: env.S3_ENDPOINT!,
        region: env.S3_REGION!,
        accessKeyId: env.S3_ACCESS_KEY_ID!,
        secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
        bucket: env.S3_BUCKET!,
      };
    }
    if (Date.now() > deadline) throw new Error(`Ceph RGW did not start within ${timeoutMs} ms (${state.dir})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function s3Server(name: S3ServerName): Promise<S3TestServer> {
  return name === "rgw" ? rgwServer() : Promise.resolve(inject("s3rver"));
}

/** An aws4fetch client signing for the server, for requests the adapter does not make. */
export function rawS3(server: S3TestServer): { fetch(path: string, init?: RequestInit): Promise<Response> } {
  const client = new AwsClient({
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    service: "s3",
    region: server.region,
    retries: 0,
  });
  return { fetch: (path, init) => client.fetch(`${server.endpoint}/${path}`, init) };
}

export function adapterOptions(server: S3TestServer, bucket: string): S3AdapterOptions {
  return {
    bucket,
    region: server.region,
    endpoint: server.endpoint,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    forcePathStyle: true,
  };
}

/** The S3_* variables that point the CLI at `bucket` on `server` (through `endpoint`, e.g. a fault proxy, when given). */
export function s3Env(server: S3TestServer, bucket: string, endpoint = server.endpoint): Record<string, string> {
  return {
    S3_ENDPOINT: endpoint,
    S3_REGION: server.region,
    S3_BUCKET: bucket,
    S3_ACCESS_KEY_ID: server.accessKeyId,
    S3_SECRET_ACCESS_KEY: server.secretAccessKey,
  };
}

let buckets = 0;

/** Creates an empty bucket with a unique name. */
export async function createBucket(server: S3TestServer): Promise<string> {
  const bucket = `t-${process.pid}-${Date.now().toString(36)}-${++buckets}`;
  const res = await rawS3(server).fetch(bucket, { method: "PUT" });
  if (!res.ok) throw new Error(`creating bucket ${bucket}: HTTP ${res.status} ${await res.text()}`);
  return bucket;
}

export interface S3TestAdapter {
  adapter: StorageAdapter;
  server: S3TestServer;
  bucket: string;
  /** Deletes every object and the bucket. */
  cleanup(): Promise<void>;
}

/** An S3 adapter on a fresh bucket of the named test server. */
export async function s3TestAdapter(name: S3ServerName, overrides: Partial<S3AdapterOptions> = {}): Promise<S3TestAdapter> {
  const server = await s3Server(name);
  const bucket = await createBucket(server);
  const adapter = s3Adapter({ ...adapterOptions(server, bucket), ...overrides });
  return {
    adapter,
    server,
    bucket,
    async cleanup() {
      const cleaner = s3Adapter(adapterOptions(server, bucket));
      const keys: string[] = [];
      for await (const entry of cleaner.list("")) keys.push(entry.key);
      await cleaner.delete(keys);
      await rawS3(server).fetch(bucket, { method: "DELETE" });
    },
  };
}
