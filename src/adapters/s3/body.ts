/**
 * How a buffered payload (a part, a small XML document) goes into a `Request`. Node's fetch
 * (undici) copies a `Uint8Array` body into a fresh ArrayBuffer for every Request built, so each
 * part in flight was held twice and every attempt left an 8 MiB copy for the garbage collector
 * (bench/PROFILE.md: 8 MiB parts, 4 in flight, +130 MiB peak RSS on Node 20 and +170 MiB on
 * Node 24 as bytes, +42 and +28 MiB as a stream). A stream over the same bytes is sent without
 * a copy; its length is given as Content-Length, so the server still gets a sized body (S3
 * answers 411 to a chunked one). Elsewhere the bytes go as they are: Deno sends a stream body
 * chunked, dropping the length; Bun gains nothing measurable from a stream; workerd and browsers
 * were not measured.
 */

/** Node: no `navigator` before Node 21, `Node.js/…` from then on (Bun and Deno name themselves). */
const undici = ((ua) => ua === undefined || ua.startsWith("Node.js/"))(
  (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent,
);

interface Payload {
  body: BodyInit | null;
  /** Node requires it for a stream body. */
  duplex?: "half";
}

/**
 * The body to send `bytes` with; for a stream, `headers` gains its Content-Length. The stream
 * yields the caller's bytes themselves, so they must not change until the answer arrives (a
 * part's buffer goes back to the pool only then).
 */
export function requestBody(bytes: Uint8Array | undefined, headers: Headers): Payload {
  if (!bytes) return { body: null };
  if (!undici || bytes.length === 0) return { body: bytes as Uint8Array<ArrayBuffer> };
  headers.set("content-length", String(bytes.length));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return { body, duplex: "half" };
}
