/**
 * The stage registry: every optional transform between a backup's original bytes and the stored
 * ones, grouped in layers. Backup runs each layer's chosen stage, innermost first; restore undoes
 * them outermost first, taking each stage from the metadata, else the key's suffix, else the
 * magic bytes (bunqueue's keys say nothing, docs/FORMAT.md §3). A new stage is a module and an
 * entry here; a new layer is one more entry in `LAYERS`.
 */
import type { Codec } from "../codec/index.js";
import { BackupError, ConfigError, CorruptDataError, messageOf } from "../errors.js";
import { FORMAT } from "../format/meta.js";
import type { BackupMeta } from "../types.js";
import { peek, tap } from "../util/streams.js";
import { gzip } from "./compression/gzip.js";
import { none } from "./compression/none.js";
import { zstd } from "./compression/zstd.js";
import { age } from "./encryption/age.js";
import { none as unencrypted } from "./encryption/none.js";
import type { Layer, Stage, StageOptions } from "./stage.js";

const byName = (stages: readonly Stage[], name: unknown): Stage | undefined => stages.find((stage) => stage.name === name);

const COMPRESSION = [gzip, zstd, none];

/** The values of the `compression` option. */
export const COMPRESSIONS = COMPRESSION.map((stage) => stage.name);

/** The compression stage named `name` (one of `COMPRESSIONS`). */
export const compressionStage = (name: string): Stage | undefined => byName(COMPRESSION, name);

const compression: Layer = {
  stages: COMPRESSION,
  option: "compression",
  chosen: (options) => byName(COMPRESSION, options.compression)!,
  // bunqueue's current writer says `compressed` only, which means gzip (docs/FORMAT.md §3).
  named: (meta) => byName(COMPRESSION, meta.compression ?? (typeof meta.compressed === "boolean" ? (meta.compressed ? "gzip" : "none") : undefined)),
};

const ENCRYPTION = [age, unencrypted];

const encryption: Layer = {
  stages: ENCRYPTION,
  option: "encryption",
  chosen: ({ encryption: keys }) => (keys.recipients.length > 0 || keys.passphrase !== undefined ? age : unencrypted),
  // Metadata without `encryption` is of a backup stored in the clear (docs/FORMAT.md §2).
  named: (meta) => byName(ENCRYPTION, meta.encryption ?? "none"),
};

/** Innermost first. */
const LAYERS: readonly Layer[] = [compression, encryption];

/** Content-Type of data no stage has transformed (docs/FORMAT.md §1). */
const RAW_TYPE = "application/octet-stream";

/** The stages a new backup goes through under `options`, innermost first; a `ConfigError` if one cannot be written here. */
export function stagesFor(options: StageOptions): Stage[] {
  return LAYERS.map((layer) => {
    const stage = layer.chosen(options);
    const why = stage.unwritable?.(options.codec);
    if (why) throw new ConfigError(layer.option, why);
    return stage;
  });
}

/** What a backup's stages make of its key, its stored object and its metadata. */
export interface StageFacts {
  keySuffix: string;
  contentType: string;
  meta: Partial<BackupMeta>;
  /** The newest format a stage needs (docs/FORMAT.md §4). */
  format: string;
  /** Whether the metadata must hold no value computed from the original except its size (§2). */
  hidesOriginal: boolean;
}

export function describeStages(stages: readonly Stage[]): StageFacts {
  return {
    keySuffix: stages.map((stage) => stage.keySuffix).join(""),
    contentType: stages.reduce((type, stage) => stage.contentType ?? type, RAW_TYPE),
    meta: Object.assign({}, ...stages.map((stage) => stage.meta)),
    format: stages.reduce((format, stage) => stage.format ?? format, FORMAT),
    hidesOriginal: stages.some((stage) => stage.hidesOriginal === true),
  };
}

/** `stream` through the encoders of `stages`. */
export function encodeStages(stream: ReadableStream<Uint8Array>, stages: readonly Stage[], codec: Codec, options: StageOptions): ReadableStream<Uint8Array> {
  for (const stage of stages) if (stage.encode) stream = stream.pipeThrough(stage.encode(codec, options));
  return stream;
}

/**
 * The stored bytes of the backup at `key` through the decoders of its stages. A decoder's own
 * failure is the stored data's fault: a `CorruptDataError`.
 */
export async function decodeStages(stream: ReadableStream<Uint8Array>, key: string, meta: BackupMeta | undefined, codec: Codec, options: StageOptions): Promise<ReadableStream<Uint8Array>> {
  let unread = key;
  for (const layer of [...LAYERS].reverse()) {
    let stage = meta && layer.named(meta);
    stage ??= layer.stages.find((s) => s.keySuffix !== "" && unread.endsWith(s.keySuffix));
    if (!stage) {
      const sniffed = await peek(stream, Math.max(...layer.stages.map((s) => s.magic?.length ?? 0)));
      stream = sniffed.stream;
      stage = layer.stages.find((s) => s.magic && s.magic.every((byte, i) => sniffed.head[i] === byte)) ?? layer.stages.find((s) => !s.magic)!;
    }
    if (unread.endsWith(stage.keySuffix)) unread = unread.slice(0, unread.length - stage.keySuffix.length);
    const { name } = stage;
    if (stage.decode) {
      stream = tap(stream.pipeThrough(await stage.decode(codec, options, key)), () => undefined, (error) =>
        BackupError.is(error) ? error : new CorruptDataError(key, `stored data does not decode as ${name}: ${messageOf(error)}`, { cause: error }),
      );
    }
  }
  return stream;
}
