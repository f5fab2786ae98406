/**
 * Where the bin writes: stdout for results (one JSON document with `--json`), stderr for
 * diagnostics and the TTY-only progress line. Every write passes through `redact`, so a
 * secret that slipped into some message from below is still never printed; JSON is redacted
 * before it is serialised, because serialising escapes a secret into a form no longer equal to it.
 */
import type { Backupper } from "../backupper.js";
import type { ProgressEvent } from "../events.js";
import type { BackupInfo } from "../types.js";
import { escapeXml } from "../adapters/s3/xml.js";
import { formatBytes } from "./units.js";

export interface Streams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

export interface Output {
  /** A line of result on stdout. */
  line(text?: string): void;
  /** One JSON document on stdout. */
  json(value: unknown): void;
  /** A diagnostic line on stderr. */
  warn(text: string): void;
  /** A diagnostic line on stderr that replaces the progress line on a terminal, which then carries on below it. */
  notice(text: string): void;
  /** One JSON value on one line of stderr (events for `--json` callers). */
  jsonLine(value: unknown): void;
  /** Shows progress of long transfers on a terminal until the returned function is called; nothing when not a TTY. */
  progress(backupper: Backupper): () => void;
  /** Redacts `secret` from everything written from now on (a key read from a file). */
  conceal(secret: string): void;
  /** `text` with every known secret masked, for what leaves the process other than through these streams (an alert). */
  redact(text: string): string;
}

export interface Redact {
  (text: string): string;
  /** Any JSON-able value: every string in it (keys too) redacted, as `JSON.stringify` would see it. */
  (value: unknown): unknown;
  /** Adds a secret, for secrets learnt after the start (read from files). */
  add(secret: string): void;
}

/** A secret URL-encoded as `encodeURIComponent`, SigV4 (RFC 3986) and HTML forms do it. */
function urlEncoded(secret: string): string[] {
  try {
    const uri = encodeURIComponent(secret);
    const rfc3986 = uri.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    return [uri, rfc3986, new URLSearchParams({ s: secret }).toString().slice(2)];
  } catch {
    // A lone surrogate cannot be URL-encoded, so no URL can carry the secret.
    return [];
  }
}

/**
 * The forms a secret takes in messages from below: as is, trimmed (fetch trims header values),
 * each line of one pasted wrapped, JSON-escaped (a message quoting a value or a JSON body),
 * URL-encoded (a URL in a message) and XML-escaped (an S3 error body).
 */
function forms(secret: string): string[] {
  const lines = secret.split(/\r?\n/).map((line) => line.trim());
  return [secret, secret.trim(), ...lines, JSON.stringify(secret).slice(1, -1), ...urlEncoded(secret), escapeXml(secret)];
}

/**
 * Secret values (and their `forms`) replaced by `***`; forms shorter than four characters are
 * left alone, as they would mask ordinary words. The longest form goes first, so a secret is
 * masked whole rather than around one of its lines.
 */
export function redactor(secrets: readonly (string | undefined)[]): Redact {
  const known = secrets.filter((s): s is string => typeof s === "string");
  let values: string[] = [];
  const learn = () => {
    values = [...new Set(known.flatMap(forms))].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
  };
  learn();
  const text = (t: string) => values.reduce((out, secret) => out.split(secret).join("***"), t);
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return text(value);
    if (typeof value !== "object" || value === null) return value;
    const plain = typeof (value as { toJSON?: unknown }).toJSON === "function" ? (value as { toJSON(): unknown }).toJSON() : value;
    if (plain !== value) return walk(plain);
    if (Array.isArray(value)) return value.map(walk);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [text(k), walk(v)]));
  };
  return Object.assign(walk, {
    add(secret: string) {
      known.push(secret);
      learn();
    },
  }) as Redact;
}

const PROGRESS_EVERY_MS = 200;

function progressText(e: ProgressEvent): string {
  const total = e.totalBytes ? ` of ${formatBytes(e.totalBytes)} (${Math.floor((e.bytesRead / e.totalBytes) * 100)}%)` : "";
  return `${e.operation} ${e.key}: ${formatBytes(e.bytesRead)}${total}`;
}

export function createOutput(streams: Streams, redact: Redact): Output {
  const tty = streams.stderr.isTTY === true;
  return {
    line: (text = "") => void streams.stdout.write(redact(`${text}\n`)),
    json: (value) => void streams.stdout.write(`${JSON.stringify(redact(value), null, 2)}\n`),
    warn: (text) => void streams.stderr.write(redact(`${text}\n`)),
    notice: (text) => void streams.stderr.write(redact(`${tty ? "\r\x1b[K" : ""}${text}\n`)),
    jsonLine: (value) => void streams.stderr.write(`${JSON.stringify(redact(value))}\n`),
    conceal: (secret) => redact.add(secret),
    redact: (text) => redact(text),
    progress(backupper) {
      if (!tty) return () => undefined;
      let last = 0;
      let shown = false;
      const off = backupper.on("progress", (e) => {
        const now = Date.now();
        if (now - last < PROGRESS_EVERY_MS) return;
        last = now;
        shown = true;
        streams.stderr.write(redact(`\r\x1b[K${progressText(e)}`));
      });
      return () => {
        off();
        if (shown) streams.stderr.write("\r\x1b[K");
      };
    },
  };
}

/** A backup as scripts read it: dates as ISO strings, the stored metadata as is. */
export function infoJson(info: BackupInfo) {
  return {
    key: info.key,
    metaKey: info.metaKey,
    name: info.name,
    timestamp: info.timestamp.toISOString(),
    size: info.size ?? null,
    compressedSize: info.compressedSize,
    checksum: info.checksum ?? null,
    compressed: info.compressed ?? null,
    encrypted: info.meta?.encryption === "age",
    verified: info.verified,
    ...(info.problem === undefined ? {} : { problem: info.problem }),
    ...(info.durationMs === undefined ? {} : { durationMs: info.durationMs }),
    meta: info.meta ?? null,
  };
}

/** `12.3 MiB → 3.10 MiB`, or just the stored size for a backup without metadata. */
export function sizes(info: Pick<BackupInfo, "size" | "compressedSize">): string {
  return info.size === undefined ? `${formatBytes(info.compressedSize)} stored` : `${formatBytes(info.size)} → ${formatBytes(info.compressedSize)}`;
}
