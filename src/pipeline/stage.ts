/**
 * What a pipeline stage is: one optional transform between a backup's original bytes and the
 * bytes stored (docs/FORMAT.md §1–§4), together with everything the format says about it.
 * Types only, so stage modules and the registry (stages.ts) do not import each other.
 */
import type { Codec, CodecPreference } from "../codec/index.js";
import type { BackupMeta } from "../types.js";

type Transform = ReadableWritablePair<Uint8Array, Uint8Array>;

/** The backupper options a stage's encoder is tuned by (its own `ResolvedBackupperOptions` fields). */
export interface StageOptions {
  compression: string;
  compressionLevel: number;
  compressionWorkers: number;
  codec: CodecPreference;
}

/** A stage without `encode` and `decode` passes the bytes through unchanged (compression `"none"`). */
export interface Stage {
  /** Its value in its layer's metadata field: `compression: "gzip"`. */
  readonly name: string;
  /** What it appends to the data key after `.db` (`.gz`); "" when nothing. */
  readonly keySuffix: string;
  /** The Content-Type of its output; a pass-through has none and keeps that of its input. */
  readonly contentType?: string;
  /** The metadata fields it writes. */
  readonly meta: Partial<BackupMeta>;
  /** The first bytes of its output, which name it when neither metadata nor key does. */
  readonly magic?: Uint8Array;
  /** The `compressionLevel` values it takes; a stage without levels ignores the option. */
  readonly levels?: { readonly min: number; readonly max: number; readonly default: number };
  /** Why new backups cannot use it on this runtime with codec `prefer`, or undefined when they can. */
  unwritable?(prefer: CodecPreference): string | undefined;
  encode?(codec: Codec, options: StageOptions): Transform;
  /** Its inverse; corrupt input errors the stream with a plain `Error`. */
  decode?(codec: Codec): Transform | Promise<Transform>;
}

/** Stages of which every backup uses exactly one: compression (later, encryption). */
export interface Layer {
  readonly stages: readonly Stage[];
  /** The stage new backups use under `options`. */
  chosen(options: StageOptions): Stage;
  /** The option that chooses among its stages: a stage that cannot be written here is a `ConfigError` naming it. */
  readonly option: keyof StageOptions;
  /** The stage `meta` names, or undefined when it does not say. */
  named(meta: BackupMeta): Stage | undefined;
}
