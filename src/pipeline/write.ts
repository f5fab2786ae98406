/**
 * The backup pipeline: the source's bytes → size and SHA-256 of the original (its size only when
 * a stage hides it, docs/FORMAT.md §2) → each stage's
 * encoder → size and SHA-256 of the stored bytes → the body to store. Pull-based, so the source
 * is read only as fast as storage takes the body, and memory does not grow with its size.
 */
import type { Codec } from "../codec/index.js";
import { toSourceError, type BackupError } from "../errors.js";
import { tap } from "../util/streams.js";
import { counter, meter, type Counter, type Meter } from "./measure.js";
import type { Progress } from "./progress.js";
import type { Stage, StageOptions } from "./stage.js";
import { encodeStages } from "./stages.js";

export interface Encoding {
  body: ReadableStream<Uint8Array>;
  original: Counter;
  /** SHA-256 of the original; undefined when a stage must not reveal it (an encrypted backup). */
  checksum(): string | undefined;
  stored: Meter;
  /** Why reading the source failed, if it did: storage may report that failure as its own. */
  sourceFailure(): BackupError | undefined;
}

export function encode(source: ReadableStream<Uint8Array>, stages: readonly Stage[], codec: Codec, options: StageOptions, progress: Progress): Encoding {
  const hashed = stages.some((stage) => stage.hidesOriginal === true) ? undefined : meter(codec);
  const original = hashed ?? counter();
  const stored = meter(codec);
  let failure: BackupError | undefined;
  const fail = (error: unknown) => (failure = toSourceError(error, "reading the source failed"));
  const measured = tap(
    source,
    (chunk) => {
      if (!(chunk instanceof Uint8Array)) throw fail(new TypeError(`source yielded ${Object.prototype.toString.call(chunk)}, not a Uint8Array`));
      original.add(chunk);
      progress(original.size, stored.size);
    },
    fail,
  );
  const body = tap(encodeStages(measured, stages, codec, options), (chunk) => stored.add(chunk));
  return { body, original, checksum: () => hashed?.digest(), stored, sourceFailure: () => failure };
}
