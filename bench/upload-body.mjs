// What a runtime's fetch holds for a request body (bench/PROFILE.md, "Uploads to S3"): 16 rounds of
// 4 concurrent 8 MiB PUTs from the same 4 buffers, sent as a Uint8Array or as a one-chunk stream
// with an explicit Content-Length, to a server in another process that discards them.
//   node bench/upload-body.mjs serve                       prints the server's URL, serves until killed
//   <node|bun|deno run -A> bench/upload-body.mjs bytes|stream URL
// Prints the runtime, the mode, what the server saw (length; Content-Length/Transfer-Encoding) and
// the peak RSS against the RSS before the first request (the 32 MiB of buffers included in both).
import { createServer } from "node:http";

const [mode, url] = process.argv.slice(2);
if (mode === "serve") {
  const server = createServer((req, res) => {
    let received = 0;
    req.on("data", (chunk) => (received += chunk.length));
    req.on("end", () => {
      res.setHeader("x-received", `${received}; ${req.headers["content-length"]}/${req.headers["transfer-encoding"]}`);
      res.end();
    });
  });
  server.listen(0, "127.0.0.1", () => console.log(`http://127.0.0.1:${server.address().port}/`));
} else {
  const buffers = Array.from({ length: 4 }, () => new Uint8Array(8 << 20).fill(7));
  const before = process.memoryUsage().rss;
  const init = (bytes) =>
    mode === "bytes"
      ? { body: bytes }
      : {
          body: new ReadableStream({
            start(c) {
              c.enqueue(bytes);
              c.close();
            },
          }),
          duplex: "half",
          headers: { "content-length": String(bytes.length) },
        };
  let seen;
  const put = async (bytes) => {
    const res = await fetch(new Request(url, { method: "PUT", ...init(bytes) }));
    seen = res.headers.get("x-received");
    await res.arrayBuffer();
  };
  for (let round = 0; round < 16; round++) await Promise.all(buffers.map(put));
  const peak = process.resourceUsage?.().maxRSS * 1024 || process.memoryUsage().rss;
  console.log(`${globalThis.navigator?.userAgent ?? `Node.js ${process.version}`} ${mode}: server saw ${seen}; peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB, ${(before / 2 ** 20).toFixed(0)} MiB before`);
}
