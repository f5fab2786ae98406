/**
 * Secrets never leak: a run of many failure scenarios with a known secret key and session
 * token, collecting every error (message, stack, cause chain, JSON form), every event payload
 * and every status; none may contain the secret, the token, a signature that was sent or an
 * Authorization header; nor may any contain an age identity or passphrase. And a backupper on the fs adapter cannot be steered outside its root.
 */

import { mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { getResponse, http, HttpResponse, type RequestHandler } from "msw";
import { describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { s3Adapter } from "../../src/adapters/s3.js";
import { fsAdapter } from "../../src/fs.js";
import { BackupError, bytesSource, bytesTarget, createBackupper, type BackupperOptions } from "../../src/index.js";
import { readObject } from "../helpers/fixtures.js";
import { adapterOptions, rgwUnavailable, s3Server } from "../helpers/s3.js";
import { secretWatch } from "../helpers/s3-secrets.js";
import { ledger } from "./ledger.js";

const log = ledger(import.meta.filename);
const SECRET = "SecReT/Known+Value0123456789abcdefghijKL";
const TOKEN = "SessionTOKEN//known+token=value-for-leak-test";

describe("secrets in errors, events and status", () => {
  it("no failure scenario puts the secret key, session token, a signature or an Authorization header anywhere", async () => {
    const watch = secretWatch();
    const events: string[] = [];
    let scenarios = 0;

    /** Runs backup, list, restore, verify and prune on `options`, recording every error, event and status. */
    async function exercise(label: string, options: Omit<BackupperOptions, "source">) {
      scenarios++;
      const b = createBackupper({
        ...options,
        source: bytesSource(new Uint8Array(2048).fill(7), { name: "sec" }),
        on: {
          started: (e) => events.push(JSON.stringify(e)),
          progress: (e) => events.push(JSON.stringify(e)),
          succeeded: (e) => events.push(JSON.stringify(e)),
          pruned: (e) => events.push(JSON.stringify(e)),
          failed: (e) => {
            events.push(JSON.stringify({ ...e, error: undefined }));
            watch.seen(e.error);
          },
        },
      });
      const key = `backups/sec-2026-01-01T00-00-00-000Z-abcdefgh.db.gz`;
      for (const call of [() => b.backup(), () => b.list(), () => b.restore(key, { to: bytesTarget() }), () => b.verify(key), () => b.prune()]) {
        await call().catch((e: unknown) => {
          expect(BackupError.is(e), `${label}: ${String(e)}`).toBe(true);
          watch.seen(e);
        });
      }
      events.push(JSON.stringify(b.status()));
    }

    const fake = "http://s3.leak.test";
    const handlers: RequestHandler[] = [];
    const faulty = (respond: () => Response) => {
      handlers.length = 0;
      handlers.push(http.all("*", respond));
    };
    const fetchVia = watch.fetch(async (request) => {
      const mocked = await getResponse(handlers, request);
      if (mocked?.type === "error") throw new TypeError("fetch failed (injected)");
      return mocked!;
    });
    const fakeAdapter = () =>
      s3Adapter({ bucket: "leak", region: "us-east-1", endpoint: fake, forcePathStyle: true, accessKeyId: "AKIALEAKTEST", secretAccessKey: SECRET, sessionToken: TOKEN, maxAttempts: 2, retry: { baseDelayMs: 1 }, fetch: fetchVia });
    const errorDoc = (code: string, status: number, extra = "") =>
      new HttpResponse(`<Error><Code>${code}</Code><Message>${code}</Message>${extra}<RequestId>r</RequestId></Error>`, { status });

    const injected: Array<[string, () => Response]> = [
      ["SignatureDoesNotMatch echoing the string to sign", () => errorDoc("SignatureDoesNotMatch", 403, `<StringToSign>AWS4-HMAC-SHA256 ${TOKEN}</StringToSign><SignatureProvided>abc</SignatureProvided>`)],
      ["InvalidToken", () => errorDoc("InvalidToken", 400)],
      ["AccessDenied", () => errorDoc("AccessDenied", 403)],
      ["ExpiredToken", () => errorDoc("ExpiredToken", 400)],
      ["500 exhausting retries", () => errorDoc("InternalError", 500)],
      ["network reset", () => HttpResponse.error()],
      ["200 with an Error body", () => new HttpResponse(`<Error><Code>InternalError</Code></Error>`, { status: 200 })],
      ["garbage body", () => new HttpResponse("<<<not xml", { status: 400 })],
    ];
    for (const [label, respond] of injected) {
      faulty(respond);
      await exercise(label, { adapter: fakeAdapter() });
    }

    if (rgwUnavailable() === undefined) {
      const server = await s3Server("rgw");
      const real = adapterOptions(server, "no-such-bucket-for-leak-test");
      await exercise("RGW: wrong secret", { adapter: s3Adapter({ ...real, bucket: server.bucket, secretAccessKey: SECRET, fetch: watch.fetch() }) });
      await exercise("RGW: unknown session token", { adapter: s3Adapter({ ...real, bucket: server.bucket, sessionToken: TOKEN, fetch: watch.fetch() }) });
      await exercise("RGW: missing bucket", { adapter: s3Adapter({ ...real, secretAccessKey: server.secretAccessKey, fetch: watch.fetch() }) });
    }

    // Options mistakes are reported before any request, and never repeat the value of a secret.
    for (const bad of [{ endpoint: `http://user:${SECRET}@host` }, { endpoint: `http://host/?token=${TOKEN}` }, { sessionToken: "" }, { region: "" }]) {
      scenarios++;
      try {
        s3Adapter({ bucket: "b", region: "r", accessKeyId: "a", secretAccessKey: SECRET, sessionToken: TOKEN, ...bad });
      } catch (e) {
        watch.seen(e);
      }
    }

    for (const e of events) watch.seen(new Error(e));
    watch.assertClean([SECRET, TOKEN, encodeURIComponent(SECRET), encodeURIComponent(TOKEN)]);
    log.record({
      kind: "security",
      scenario: "secret key + session token across failure scenarios",
      expected: "no secret, token, signature or Authorization header in any error/event/status",
      observed: `${scenarios} scenarios, ${watch.errorCount} texts scanned (errors with causes, events, status): clean`,
      faults: scenarios,
      bytesLost: 0,
    });
  });
});

describe("age keys in errors, events and status", () => {
  it("no identity or passphrase appears anywhere, whatever fails", async () => {
    const watch = secretWatch();
    const identity = await generateIdentity();
    const stranger = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const PASSPHRASE = "Known passphrase for the leak test 0123";
    const adapter = memoryAdapter();
    const events: string[] = [];
    const make = (encryption: BackupperOptions["encryption"]) =>
      createBackupper({
        adapter,
        encryption,
        source: bytesSource(new Uint8Array(4096).fill(9), { name: "sec" }),
        on: {
          started: (e) => events.push(JSON.stringify(e)),
          succeeded: (e) => events.push(JSON.stringify(e)),
          failed: (e) => {
            events.push(JSON.stringify({ ...e, error: undefined }));
            watch.seen(e.error);
          },
        },
      });
    const sealed = await make({ recipients: [recipient] }).backup();
    const passphrased = await make({ passphrase: PASSPHRASE }).backup();
    const attempts: Array<[BackupperOptions["encryption"], string]> = [
      [{ identities: [stranger] }, sealed.key],
      [{ identities: [stranger], passphrase: `${PASSPHRASE}!` }, passphrased.key],
      [undefined, sealed.key],
      [{ identities: [identity] }, passphrased.key],
    ];
    for (const [encryption, key] of attempts) {
      const b = make(encryption);
      for (const call of [() => b.restore(key, { to: bytesTarget() }), () => b.verify(key)]) {
        await call().then(
          () => expect.unreachable(`${key} opened with the wrong key`),
          (e: unknown) => watch.seen(e),
        );
      }
      events.push(JSON.stringify(b.status()), inspect(b));
    }
    // Tampered ciphertext, read with the right identity.
    const stored = await readObject(adapter, sealed.key);
    stored[stored.length >> 1]! ^= 1;
    await adapter.put(sealed.key, stored);
    await make({ identities: [identity] }).verify(sealed.key).catch((e: unknown) => watch.seen(e));
    // Malformed keys in the options.
    for (const bad of [{ identities: [`${identity}x`] }, { identities: [identity.slice(0, 30)] }, { passphrase: PASSPHRASE, recipients: [recipient] }]) {
      try {
        make(bad);
      } catch (e) {
        watch.seen(e);
      }
    }
    for (const e of events) watch.seen(new Error(e));
    watch.assertClean([identity, stranger, identity.slice(16, 40), stranger.slice(16, 40), PASSPHRASE]);
    log.record({
      kind: "security",
      scenario: "age identities and passphrases across wrong-key, no-key, tampered and bad-option scenarios",
      expected: "no identity or passphrase in any error/event/status/inspect",
      observed: `${watch.errorCount} texts scanned: clean`,
      faults: attempts.length + 4,
      bytesLost: 0,
    });
  }, 120_000);
});

describe("fs adapter stays inside its root", () => {
  it("refuses `..` prefixes and keys, and backups through a symlink that leads outside", async () => {
    const dir = await mkdtemp(join(tmpdir(), "backupper-sec-"));
    try {
      const root = join(dir, "root");
      const outside = join(dir, "outside");
      await mkdir(root);
      await mkdir(outside);
      await symlink(outside, join(root, "backups"));
      const adapter = fsAdapter({ root });
      const source = bytesSource(new Uint8Array([1, 2, 3]), { name: "sec" });

      const refusals: string[] = [];
      for (const prefix of ["../", "a/../../", "/etc/"]) {
        expect(() => createBackupper({ adapter, source, prefix })).toThrow(/prefix/);
        refusals.push(`prefix ${prefix}`);
      }
      const viaLink = await createBackupper({ adapter, source }).backup().then(() => undefined, (e: unknown) => e);
      expect(BackupError.is(viaLink), String(viaLink)).toBe(true);
      refusals.push(`symlinked prefix → ${(viaLink as BackupError).code}`);
      for (const key of ["../escape", "ok/../../escape", "backups/x"]) {
        const e = await adapter.put(key, new Uint8Array([9])).then(() => undefined, (err: unknown) => err);
        expect(BackupError.is(e), key).toBe(true);
        refusals.push(`put ${key} → ${(e as BackupError).code}`);
      }
      expect(await readdir(outside)).toEqual([]);
      expect(await readdir(dir)).toEqual(["outside", "root"]);
      log.record({ kind: "security", scenario: "fs adapter: `..` and symlinks out of root", expected: "refused, nothing written outside", observed: refusals.join("; "), faults: refusals.length, bytesLost: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
