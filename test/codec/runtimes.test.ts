/**
 * Both codecs on the machine's Node, Bun and Deno (from the runtime table, test/runtimes/runtimes.ts),
 * through test/runtimes/children/codec-check.ts run on the sources. A runtime whose binary is
 * absent is skipped with a line saying why, and fails under CI=true.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { CHILDREN, runtime, type Runtime, type RunOptions } from "../runtimes/runtimes.js";
import { itOn } from "../runtimes/skip.js";

const run = promisify(execFile);
const script = join(CHILDREN, "codec-check.ts");
const command = (rt: Runtime, opts: RunOptions = {}) => [...rt.argv({ ts: true, allow: ["--allow-read", "--allow-env"], ...opts }), script];

const node = runtime("node");
const withBuiltins: [string, Runtime, string[]][] = [
  ["node", node, command(node)],
  // Node 20 before 20.16 has no process.getBuiltinModule: the dynamic import() path.
  ["node without getBuiltinModule", node, command(node, { nodeFlags: ["--import", "data:text/javascript,delete process.getBuiltinModule"] })],
  ["bun", runtime("bun"), command(runtime("bun"))],
  ["deno", runtime("deno"), command(runtime("deno"))],
];

const flags = { roundTrip: true, crossCodec: true, multiMember: true, truncatedErrors: true, zstdRead: true };

async function check([file, ...args]: readonly string[]) {
  const { stdout } = await run(file!, args, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout);
}

describe("codecs on every runtime", () => {
  const digests = new Map<string, string>();

  for (const [name, rt, argv] of withBuiltins) {
    itOn(rt)(`${name}: auto picks native; both codecs round-trip, cross-read, read multi-member, reject truncation, read zstd`, async () => {
      const result = await check(argv);
      expect(result.auto).toBe("native");
      expect(result.native).toMatchObject({ name: "native", ...flags });
      expect(result.portable).toMatchObject({ name: "portable", ...flags });
      expect(result.portable.sha256).toBe(result.native.sha256);
      digests.set(name, result.native.sha256);
    }, 120_000);
  }

  it("without Node built-ins (Workers, browsers): auto picks portable, native is refused", async () => {
    const result = await check([...command(node), "--no-node-builtins"]);
    expect(result.auto).toBe("portable");
    expect(result.native).toMatch(/native codec unavailable/);
    expect(result.portable).toMatchObject({ name: "portable", ...flags });
    digests.set("no built-ins", result.portable.sha256);
  }, 120_000);

  it("every runtime computes the same SHA-256", () => {
    // Skipped runtimes (absent binaries, reported above) are not counted; under CI=true they fail instead.
    expect(digests.size).toBe(withBuiltins.filter(([, rt]) => rt.missing === undefined).length + 1);
    expect(new Set(digests.values()).size).toBe(1);
  });
});
