/**
 * Child process for the fs adapter's crash test: starts a put of a stream that sends 1 MiB,
 * reports "streaming" once those bytes reached the temp file, then never ends, waiting to be killed.
 * Usage: node --import tsx fs-put-child.ts <root> <key>
 */

import { readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fsAdapter } from "../../src/adapters/fs.js";

const [root, key] = process.argv.slice(2) as [string, string];
const chunk = new Uint8Array(1024 * 1024).fill(0x5a);
let pulls = 0;

const body = new ReadableStream<Uint8Array>(
  {
    async pull(controller) {
      pulls += 1;
      if (pulls === 1) {
        controller.enqueue(chunk);
        return;
      }
      await reportWhenWritten();
      await new Promise(() => undefined);
    },
  },
  { highWaterMark: 0 },
);

async function reportWhenWritten(): Promise<void> {
  const dir = join(root, dirname(key));
  for (;;) {
    for (const name of await readdir(dir)) {
      if (name.includes(".tmp-") && (await stat(join(dir, name))).size === chunk.byteLength) {
        process.stdout.write("streaming\n");
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

await fsAdapter({ root }).put(key, body);
