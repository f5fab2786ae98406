/**
 * Where the bin writes: stdout for results (one JSON document with `--json`), stderr for
 * diagnostics and the TTY-only progress line. Every write passes through `redact`, so a
 * secret that slipped into some message from below is still never printed.
 */
import type { Backupper } from "../backupper.js";
import type { ProgressEvent } from "../events.js";
import type { BackupInfo } from "../types.js";
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
  /** Shows progress of long transfers on a terminal until the returned function is called; nothing when not a TTY. */
  progress(backupper: Backupper): () => void;
}

/** Secret values (four characters or more: shorter ones would mask ordinary words) replaced by `***`. */
export function redactor(secrets: readonly (string | undefined)[]): (text: string) => string {
  const values = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
  return (text) => values.reduce((t, secret) => t.split(secret).join("***"), text);
}

const PROGRESS_EVERY_MS = 200;

function progressText(e: ProgressEvent): string {
  const total = e.totalBytes ? ` of ${formatBytes(e.totalBytes)} (${Math.floor((e.bytesRead / e.totalBytes) * 100)}%)` : "";
  return `${e.operation} ${e.key}: ${formatBytes(e.bytesRead)}${total}`;
}

export function createOutput(streams: Streams, redact: (text: string) => string): Output {
  const tty = streams.stderr.isTTY === true;
  return {
    line: (text = "") => void streams.stdout.write(redact(`${text}\n`)),
    json: (value) => void streams.stdout.write(redact(`${JSON.stringify(value, null, 2)}\n`)),
    warn: (text) => void streams.stderr.write(redact(`${text}\n`)),
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
