// Runs @20minutes/s3rver in its own process: its continuation tokens use DES, which Node
// (OpenSSL 3) only offers with --openssl-legacy-provider (a flag the test workers should not need).
// Prints {"port":N} once listening; exits when its stdin closes (the parent went away).
import S3rver from "@20minutes/s3rver";

const [directory, bucket] = process.argv.slice(2);
const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.resume();
process.stdin.on("end", () => server.close(() => process.exit(0)));
