// Runs the matrix checks on the runtime that runs this file (Node, Bun or Deno) and prints
// one JSON line naming the runtime, the codec and the SQLite driver. Arguments pick the
// checks (default: both); S3 settings come from S3_ENDPOINT, S3_REGION, S3_BUCKET,
// S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY.
//   node test/runtimes/children/main.mjs [s3] [sqlite]
//   bun test/runtimes/children/main.mjs
//   deno run --allow-net=127.0.0.1 --allow-env --allow-read --allow-write test/runtimes/children/main.mjs s3
//   deno run -A test/runtimes/children/main.mjs sqlite    (Deno's node:sqlite allows VACUUM INTO only with -A)
import { s3OptionsFrom, s3RoundTrip } from "./roundtrip.mjs";
import { sqliteRoundTrip } from "./sqlite.mjs";

const runtime = globalThis.Bun
  ? `bun ${globalThis.Bun.version}`
  : globalThis.Deno
    ? `deno ${globalThis.Deno.version.deno}`
    : `node ${process.version}`;

const checks = process.argv.slice(2);
const wants = (check) => checks.length === 0 || checks.includes(check);
const s3Options = s3OptionsFrom(process.env);
const result = { runtime };
if (wants("s3")) Object.assign(result, await s3RoundTrip(s3Options));
if (wants("sqlite")) result.sqlite = await sqliteRoundTrip(s3Options);
console.log(JSON.stringify(result));
