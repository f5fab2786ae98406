/**
 * Runtime-neutral sources and restore targets: bytes in memory, or a stream factory, for
 * edge runtimes and custom data. Files and SQLite live on their own subpath exports.
 */
import { ConfigError, SourceError, TargetExistsError, toSourceError } from "../errors.js";
import { checkName } from "../format/keys.js";
import { concat, streamOf } from "../util/streams.js";
import type { RestoreTarget, Source } from "../types.js";

export interface SourceOptions {
  /** Backup name (default `"data"`). */
  name?: string;
  /** Where `restore()` writes when called without `to`. */
  target?: RestoreTarget;
}

function withTarget(target: RestoreTarget | undefined): Pick<Source, "target"> {
  return target ? { target: (to) => (to === undefined ? target : noLocation(to)) } : {};
}

function noLocation(to: string): never {
  throw new ConfigError("to", `this source restores to its own target, not to a location (${JSON.stringify(to)}); pass a RestoreTarget`);
}

/** Backs up a byte array (read when `backup()` runs, so later changes to it are included). */
export function bytesSource(bytes: Uint8Array, opts: SourceOptions = {}): Source {
  if (!(bytes instanceof Uint8Array)) throw new ConfigError("bytes", "must be a Uint8Array");
  return {
    name: checkName(opts.name ?? "data"),
    snapshot: async () => ({ stream: streamOf(bytes), size: bytes.byteLength }),
    ...withTarget(opts.target),
  };
}

/**
 * Backs up whatever `open()` streams; it is called once per backup and must return a fresh
 * stream of a consistent view of the data.
 */
export function streamSource(
  open: (opts: { signal?: AbortSignal }) => ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>>,
  opts: SourceOptions & { size?: number } = {},
): Source {
  if (typeof open !== "function") throw new ConfigError("open", "must be a function returning a ReadableStream");
  return {
    name: checkName(opts.name ?? "data"),
    async snapshot({ signal }) {
      let stream: unknown;
      try {
        stream = await open({ signal });
      } catch (cause) {
        throw toSourceError(cause, "stream source failed to open");
      }
      if (!(stream instanceof ReadableStream)) throw new SourceError("stream source open() did not return a ReadableStream");
      return opts.size === undefined ? { stream } : { stream, size: opts.size };
    },
    ...withTarget(opts.target),
  };
}

export interface BytesTarget extends RestoreTarget {
  /** The restored bytes after a successful restore; undefined before. */
  readonly bytes: Uint8Array | undefined;
}

/** A restore target in memory: `bytes` holds the result once the restore has been verified. */
export function bytesTarget(): BytesTarget {
  let committed: Uint8Array | undefined;
  return {
    description: "memory",
    get bytes() {
      return committed;
    },
    async begin({ force }) {
      if (committed !== undefined && !force) throw new TargetExistsError("memory");
      const chunks: Uint8Array[] = [];
      return {
        write(chunk) {
          chunks.push(chunk.slice());
        },
        async commit() {
          committed = concat(chunks);
        },
        async abort() {
          chunks.length = 0;
        },
      };
    },
  };
}
