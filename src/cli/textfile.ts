/**
 * The metrics file node_exporter's textfile collector reads. Each write goes to a temp file in
 * the same directory, then is renamed over the file: the collector, reading at any moment, sees
 * the previous metrics or the new ones, never half of either. The temp name does not end in
 * `.prom`, so the collector never reads it. Writes are queued, so an older text never replaces
 * a newer one.
 */
import { basename, dirname, join } from "node:path";
import { messageOf, toTargetError } from "../errors.js";
import { createStagedFile, randomSuffix, type StagedFile } from "../fsutil/staged-file.js";
import { createSerial } from "../util/concurrency.js";

export interface Textfile {
  /** Replaces the file's content with `text`; rejects with a `TargetError` naming the file, leaving it as it was. */
  write(text: string): Promise<void>;
}

export function textfile(path: string): Textfile {
  const serial = createSerial();
  const replace = async (text: string) => {
    let staged: StagedFile | undefined;
    try {
      // 0644 whatever the umask: node_exporter runs as a user of its own. Metrics hold no secret.
      // Not durable: losing the latest metrics in a crash is harmless, the next write replaces them.
      staged = await createStagedFile(join(dirname(path), `.${basename(path)}.${randomSuffix()}.tmp`), { durable: false, mode: 0o644 });
      await staged.write(new TextEncoder().encode(text));
      await staged.seal();
      await staged.publish(path);
    } catch (error) {
      await staged?.discard();
      throw toTargetError(error, path, "cannot write the metrics textfile");
    }
  };
  return { write: (text) => serial.run(() => replace(text)) };
}

/**
 * Runs `command`, then writes `metrics()` to the textfile at `path` (when given) whatever the
 * outcome, so the file tells of a failure too. A textfile that cannot be written fails a command
 * that succeeded, and is only warned about after one that failed: it never hides that error.
 */
export async function thenWriteMetrics<T>(path: string | undefined, metrics: () => string, warn: (text: string) => void, command: () => Promise<T>): Promise<T> {
  if (path === undefined) return command();
  let result: T;
  try {
    result = await command();
  } catch (error) {
    await textfile(path)
      .write(metrics())
      .catch((failure: unknown) => warn(`backupper: ${messageOf(failure)}`));
    throw error;
  }
  await textfile(path).write(metrics());
  return result;
}
