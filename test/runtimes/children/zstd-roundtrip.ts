// Run by test/runtimes/zstd.test.ts on Node 24, Bun and Deno (no vitest there):
//   <runtime> test/runtimes/children/zstd-roundtrip.ts <dir> <workers>
// writes <dir>/queue.db, backs it up with compression "zstd" (native, `workers` blocks at a time)
// to an fs adapter under <dir>/store, restores it to <dir>/restored.db, and verifies it again
// with the portable codec (fzstd reading what node:zlib wrote). Prints one JSON line; the test
// checks the stored object with the real `zstd -d`. Then the same file zstd-compressed and
// encrypted to an age recipient (`.db.zst.age`), restored with its identity to <dir>/sealed.db;
// the identity is left in <dir>/key.txt for the test's `age -d | zstd -d`.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { fileSource, fsAdapter } from "../../../src/fs.js";
import { createBackupper } from "../../../src/index.js";

const [dir, workers] = process.argv.slice(2) as [string, string];
const source = join(dir, "queue.db");
const restored = join(dir, "restored.db");

// 3 MB: pages of repetitive rows with random bytes between them, so several 1 MiB blocks and frames.
const data = new Uint8Array(3_000_000);
for (let k = 0; k < data.length; k++) data[k] = (k * 7 + (k >> 10)) % 251 < 200 ? k % 61 : (k * 2654435761) >>> 24;
writeFileSync(source, data);

const adapter = fsAdapter({ root: join(dir, "store") });
const options = { adapter, source: fileSource(source, { name: "queue" }), compression: "zstd" as const, compressionWorkers: Number(workers) };
const backupper = createBackupper(options);
const info = await backupper.backup();
await backupper.restore(info.key, { to: restored });
const portable = await createBackupper({ ...options, codec: "portable", compression: "gzip" }).verify(info.key);
// A zstd bomb (64 MiB of zeros in a few KiB) whose metadata says 1 MiB: node:zlib's decoder must stop there.
const zlib = process.getBuiltinModule("node:zlib") as unknown as { zstdCompressSync(data: Uint8Array): Uint8Array };
const bombKey = info.key.replace(/-[0-9a-z]{8}\.db\.zst$/, "-b0mbb0mb.db.zst");
const bomb = zlib.zstdCompressSync(new Uint8Array(64 * 1024 * 1024));
const bombMeta = { ...info.meta!, size: 1024 * 1024, compressedSize: bomb.byteLength, storedChecksum: undefined };
await adapter.put(bombKey, bomb);
await adapter.put(`${bombKey}.meta.json`, new TextEncoder().encode(JSON.stringify(bombMeta)));
const bombError = await backupper.restore(bombKey, { to: join(dir, "bomb.db") }).then(() => "restored", (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`);

// zstd inside age: the compression layer, then the encryption layer.
const identity = await generateIdentity();
writeFileSync(join(dir, "key.txt"), `${identity}\n`, { mode: 0o600 });
const sealed = createBackupper({ ...options, source: fileSource(source, { name: "sealed" }), encryption: { recipients: [await identityToRecipient(identity)], identities: [identity] } });
const sealedInfo = await sealed.backup();
await sealed.restore(sealedInfo.key, { to: join(dir, "sealed.db") });
const sealedVerify = await sealed.verify(sealedInfo.key);
const sealedPortable = await createBackupper({ ...options, source: fileSource(source, { name: "sealed" }), codec: "portable", compression: "gzip", encryption: { identities: [identity] } }).verify(sealedInfo.key);

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, k) => v === b[k]);

const runtime = "Deno" in globalThis ? `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}` : process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`;
console.log(
  JSON.stringify({
    runtime,
    key: info.key,
    codec: info.codec,
    stored: join(dir, "store", info.key),
    meta: info.meta,
    restoredEqual: same(readFileSync(restored), data),
    portableVerify: portable.checksum === info.checksum && portable.codec === "portable",
    bombError,
    bombLeftFile: existsSync(join(dir, "bomb.db")),
    sealedKey: sealedInfo.key,
    sealedStored: join(dir, "store", sealedInfo.key),
    sealedMeta: sealedInfo.meta,
    sealedRestoredEqual: same(readFileSync(join(dir, "sealed.db")), data),
    sealedVerified: sealedVerify.size === data.length,
    sealedPortableVerify: sealedPortable.size === data.length && sealedPortable.codec === "portable",
  }),
);
