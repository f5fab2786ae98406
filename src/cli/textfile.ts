/**
 * The metrics file node_exporter's textfile collector reads. Each write goes to a temp file in
 * the same directory, then is renamed over the file: the collector, reading at any moment, sees
 * the previous metrics or the new ones, never half of either. The temp name does not end in
 * `.prom`, so the collector never reads it. Writes are queued, so an older text never replaces
 * a newer one.
 */
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { messageOf, toTargetError } from "../errors.js";
import { randomSuffix } from "../fsutil/staged-file.js";
import { createSerial } from "../util/concurrency.js";

export interface Textfile {
  /** Replaces the file's content with `text`; rejects with a `TargetError` naming the file, leaving it as it was. */
  write(text: string): Promise<void>;
}

export function textfile(path: string): Textfile {
  const serial = createSerial();
  const replace = async (text: string) => {
    const temp = join(dirname(path), `.${basename(path)}.${randomSuffix()}.tmp`);
    try {
      // 0644 (less the umask): node_exporter runs as a user of its own. Metrics hold no secret.
      await writeFile(temp, text, { flag: "wx", mode: 0o644 });
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
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
