// The runtime matrix's S3 check, on Web APIs only so the same code runs on Node, Bun, Deno
// and workerd: backup → list → restore → verify of ~11 MiB through the BUILT package against a
// real S3 server, a byte-for-byte comparison, and a verify by each codec, which both tells
// which codec "auto" picked here and proves the two read each other's gzip; a restore of a
// zstd backup planted by hand, which every runtime reads (node:zlib, else fzstd); then the same
// bytes encrypted to an age recipient and restored with its identity; a backup under a lease
// (conditional puts on this runtime's fetch), a drill of it and its Prometheus metrics.
import { generateIdentity, identityToRecipient } from "age-encryption";
import { bytesSource, bytesTarget, createBackupper } from "backupper";
import { s3Adapter } from "backupper/s3";

const MiB = 1024 * 1024;

/** Half noise (so the gzip output is still > 2 parts of 5 MiB), half text; deterministic. */
function sampleBytes(size) {
  const bytes = new Uint8Array(size);
  let x = 0x9e3779b9;
  for (let i = 0; i < size / 2; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  const text = new TextEncoder().encode("job:42 state=done attempts=1\n");
  for (let i = size / 2; i < size; i++) bytes[i] = text[i % text.length];
  return bytes;
}

function equalBytes(a, b) {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The S3 settings from variables named as the CLI's (S3_ENDPOINT, S3_BUCKET, …). */
export function s3OptionsFrom(env) {
  return {
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    bucket: env.S3_BUCKET,
    accessKeyId: env.S3_ACCESS_KEY_ID,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY,
    forcePathStyle: true,
    // The minimum part size, so the sample goes multipart with 3 parts.
    partSize: 5 * MiB,
  };
}

/** Which codec verifies `key` here: "portable" always should; "native" only where node:zlib/node:crypto exist. */
async function verifyWith(codec, options, key) {
  try {
    await createBackupper({ ...options, codec }).verify(key);
    return true;
  } catch (error) {
    if (codec === "native" && /native codec unavailable/.test(String(error?.message))) return false;
    throw error;
  }
}

/** Two concatenated frames of `zstd -19` ("backupper zstd check " × 200 each), base64: no runtime here needs to write zstd to read it. */
const ZSTD_FRAME = "KLUv/QRo7QAAqGJhY2t1cHBlciB6c3RkIGNoZWNrIAEAoQD7yQSBjsOn";

/** Plants a zstd backup of the matrix source by hand and restores it: true when the bytes come back (node:zlib or fzstd). */
async function zstdRestores(backupper, adapter) {
  const frame = Uint8Array.from(atob(ZSTD_FRAME), (c) => c.charCodeAt(0));
  const stored = new Uint8Array([...frame, ...frame]);
  const original = new TextEncoder().encode("backupper zstd check ".repeat(400));
  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const key = "backups/matrix-2026-01-01T00-00-00-000Z-zstdzstd.db.zst";
  const meta = {
    timestamp: "2026-01-01T00:00:00.000Z", version: "test", size: original.byteLength, compressedSize: stored.byteLength,
    checksum: hex(await crypto.subtle.digest("SHA-256", original)), compressed: true, compression: "zstd", format: "backupper/2", name: "matrix",
  };
  await adapter.put(key, stored);
  await adapter.put(`${key}.meta.json`, new TextEncoder().encode(JSON.stringify(meta)));
  const target = bytesTarget();
  await backupper.restore(key, { to: target });
  return equalBytes(target.bytes ?? new Uint8Array(), original);
}

export async function s3RoundTrip(s3Options) {
  const original = sampleBytes(11 * MiB);
  const target = bytesTarget();
  const options = { adapter: s3Adapter(s3Options), source: bytesSource(original, { name: "matrix", target }) };
  const backupper = createBackupper(options);

  const info = await backupper.backup();
  const listed = (await backupper.list()).map((b) => b.key);
  const restored = await backupper.restore(info.key);
  const verified = await backupper.verify(info.key);
  const native = await verifyWith("native", options, info.key);
  const portable = await verifyWith("portable", options, info.key);
  const zstdRestored = await zstdRestores(backupper, options.adapter);
  const identity = await generateIdentity();
  const sealedTarget = bytesTarget();
  const sealed = createBackupper({ ...options, source: bytesSource(original, { name: "matrix", target: sealedTarget }), encryption: { recipients: [await identityToRecipient(identity)], identities: [identity] } });
  const sealedInfo = await sealed.backup();
  await sealed.restore(sealedInfo.key);
  const leased = createBackupper({ ...options, source: bytesSource(original.subarray(0, MiB), { name: "leased" }), lease: { ttl: 30_000 } });
  const leasedInfo = await leased.backup();
  const drill = await leased.drill();
  const leaseObject = await options.adapter.get("backups/leased.lease");
  if (leaseObject) await leaseObject.body.cancel();
  return {
    leasedListed: (await leased.list()).some((b) => b.key === leasedInfo.key),
    leaseObject: leaseObject !== null,
    drill: { ok: drill.ok, key: drill.key === leasedInfo.key, checks: drill.checks.map((c) => c.name) },
    metricsSuccess: /^backupper_last_success_timestamp_seconds\{name="leased",prefix="backups\/"\} \d+/m.test(leased.metrics()),
    encryptedKey: sealedInfo.key,
    encryptedIdentical: equalBytes(sealedTarget.bytes ?? new Uint8Array(), original),
    codec: native ? "native" : "portable",
    size: info.size,
    compressedSize: info.compressedSize,
    listed: listed.includes(info.key),
    identical: equalBytes(target.bytes ?? new Uint8Array(), original),
    restoredChecksum: restored.checksum,
    verifiedChecksum: verified.checksum,
    backupChecksum: info.checksum,
    portableVerify: portable,
    zstdRestored,
  };
}
