/**
 * Cuts a put body into multipart parts: exactly `partSize` bytes each, the last one shorter.
 * A byte body is sliced without copying; a stream is copied into part buffers taken from a
 * pool, so a stream of any length is held in at most as many buffers as are taken and not
 * yet given back (the uploader gives one back when its part is stored).
 */

export interface BufferPool {
  take(): Uint8Array;
  give(buffer: Uint8Array): void;
}

export function bufferPool(size: number): BufferPool {
  const free: Uint8Array[] = [];
  return {
    take: () => free.pop() ?? new Uint8Array(size),
    give: (buffer) => {
      if (buffer.buffer.byteLength === size) free.push(new Uint8Array(buffer.buffer, 0, size));
    },
  };
}

export function* sliceParts(bytes: Uint8Array, partSize: number): Generator<Uint8Array> {
  if (bytes.length === 0) yield bytes;
  for (let offset = 0; offset < bytes.length; offset += partSize) yield bytes.subarray(offset, offset + partSize);
}

/** Always yields at least one part (empty for an empty stream). */
export async function* streamParts(
  chunks: AsyncIterable<Uint8Array>,
  partSize: number,
  pool: BufferPool,
): AsyncGenerator<Uint8Array> {
  let buffer = pool.take();
  let filled = 0;
  let yielded = false;
  for await (const chunk of chunks) {
    for (let offset = 0; offset < chunk.length; ) {
      const n = Math.min(partSize - filled, chunk.length - offset);
      buffer.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === partSize) {
        yield buffer;
        yielded = true;
        buffer = pool.take();
        filled = 0;
      }
    }
  }
  if (filled > 0 || !yielded) yield buffer.subarray(0, filled);
  else pool.give(buffer);
}
