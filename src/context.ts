/**
 * The context every operation takes: the guarded storage, which keys are ours, what is backed
 * up, the stages new backups go through, the codec, the emitter and the validated options. Made
 * once per backupper; the operations keep no state of their own.
 */
import { getCodec, type Codec } from "./codec/index.js";
import { ConfigError } from "./errors.js";
import { createEmitter, type Emitter } from "./events.js";
import type { Scope } from "./format/keys.js";
import { lazyNotifier, notifyOn } from "./notify/listen.js";
import { resolveBackupperOptions, type BackupperOptions, type ResolvedBackupperOptions } from "./options.js";
import type { Stage } from "./pipeline/stage.js";
import { stagesFor } from "./pipeline/stages.js";
import { guardStorage, type GuardedStorage } from "./storage/guard.js";
import type { Source } from "./types.js";

export interface Context {
  readonly storage: GuardedStorage;
  readonly scope: Scope;
  readonly source: Source;
  /** The stages of new backups, innermost first. */
  readonly stages: readonly Stage[];
  codec(): Promise<Codec>;
  readonly emitter: Emitter;
  /** Without the raw adapter: operations reach storage only through `storage`. */
  readonly options: Omit<ResolvedBackupperOptions, "adapter" | "source">;
}

/** Validates `options` (a `ConfigError` names the first bad one) and builds the context. */
export function createContext(input: BackupperOptions): Context {
  const { adapter, source, ...options } = resolveBackupperOptions(input);
  const emitter = createEmitter(options.on);
  const storage = guardStorage(adapter, (notice) => emitter.emit("retrying", notice));
  if (options.lease && !storage.capabilities.conditionalPut) {
    throw new ConfigError("lease", `needs an adapter with conditional puts (putIf), and the ${adapter.name} adapter has none`);
  }
  const scope = { prefix: options.prefix, name: options.name };
  if (options.notify) notifyOn(emitter, lazyNotifier(options.notify, scope));
  return { storage, scope, source, stages: stagesFor(options), codec: () => getCodec(options.codec), emitter, options };
}
