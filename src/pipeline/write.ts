/**
 * The backup pipeline: the source's bytes → size and SHA-256 of the original → each stage's
 * encoder → size and SHA-256 of the stored bytes → the body to store. Pull-based, so the source
 * is read only as fast as storage takes the body, and memory does not grow with its size.
 */
import type { Codec } from "../codec/index.js";
import { toSourceError, type BackupError } from "../errors.js";
import { tap } from "../util/streams.js";
import { meter, type Meter } from "./measure.js";
import type { Progress } from "./progress.js";
import type { Stage, StageOptions } from "./stage.js";
import { encodeStages } from "./stages.js";

export interface Encoding {
  body: ReadableStream<Uint8Array>;
  original: Meter;
  stored: Meter;
  /** Why reading the source failed, if it did: storage may report that failure as its own. */
  sourceFailure(): BackupError | undefined;
}

export function encode(source: ReadableStream<Uint8Array>, stages: readonly Stage[], codec: Codec, options: StageOptions, progress: Progress): Encoding {
  const original = meter(codec);
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
  return { body, original, stored, sourceFailure: () => failure };
}
