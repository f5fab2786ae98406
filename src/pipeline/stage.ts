/**
 * What a pipeline stage is: one optional transform between a backup's original bytes and the
 * bytes stored (docs/FORMAT.md §1–§4), together with everything the format says about it.
 * Types only, so stage modules and the registry (stages.ts) do not import each other.
 */
import type { Codec, CodecPreference } from "../codec/index.js";
import type { BackupMeta } from "../types.js";

type Transform = ReadableWritablePair<Uint8Array, Uint8Array>;

/** Validated `encryption` keys (`BackupperOptions.encryption`): what encrypts new backups, and what decrypts. */
export interface EncryptionKeys {
  recipients: readonly string[];
  passphrase: string | undefined;
  identities: readonly string[];
}

/** The backupper options a stage's encoder is tuned by (its own `ResolvedBackupperOptions` fields). */
export interface StageOptions {
  compression: string;
  compressionLevel: number;
  compressionWorkers: number;
  /** Keys to encrypt new backups with, and to decrypt with on restore. */
  encryption: EncryptionKeys;
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
  /** The `format` a reader needs to know to undo it (docs/FORMAT.md §4); absent: `backupper/1`. */
  readonly format?: string;
  /**
   * Its output must not reveal the original (encryption): the metadata then holds no value
   * computed from the original except its size (docs/FORMAT.md §2).
   */
  readonly hidesOriginal?: boolean;
  /** The first bytes of its output, which name it when neither metadata nor key does. */
  readonly magic?: Uint8Array;
  /** The `compressionLevel` values it takes; a stage without levels ignores the option. */
  readonly levels?: { readonly min: number; readonly max: number; readonly default: number };
  /** Why new backups cannot use it on this runtime with codec `prefer`, or undefined when they can. */
  unwritable?(prefer: CodecPreference): string | undefined;
  encode?(codec: Codec, options: StageOptions): Transform;
  /**
   * Its inverse, for the backup at `key`; corrupt input errors the stream with a plain `Error`,
   * missing or wrong keys with a `DecryptionError`.
   */
  decode?(codec: Codec, options: StageOptions, key: string): Transform | Promise<Transform>;
}

/** Stages of which every backup uses exactly one: compression, then encryption. */
export interface Layer {
  readonly stages: readonly Stage[];
  /** The stage new backups use under `options`. */
  chosen(options: StageOptions): Stage;
  /** The option that chooses among its stages: a stage that cannot be written here is a `ConfigError` naming it. */
  readonly option: keyof StageOptions;
  /** The stage `meta` names, or undefined when it does not say. */
  named(meta: BackupMeta): Stage | undefined;
}
