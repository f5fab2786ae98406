import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const script = fileURLToPath(new URL("../runtimes/children/codec-check.ts", import.meta.url));
const bin = (name: string) => fileURLToPath(new URL(`../../node_modules/.bin/${name}`, import.meta.url));
const node = (...flags: string[]) => [process.execPath, [...flags, "--import", "tsx", script]] as const;

// Bun and Deno are dev dependencies: a missing binary fails the test rather than skipping it.
const withBuiltins: [string, string, readonly string[]][] = [
  ["node", ...node()],
  // Node 20 before 20.16 has no process.getBuiltinModule: the dynamic import() path.
  ["node without getBuiltinModule", ...node("--import", "data:text/javascript,delete process.getBuiltinModule")],
  ["bun", bin("bun"), ["run", script]],
  // --sloppy-imports: the sources import `./x.js` for `./x.ts`, as TypeScript wants.
  ["deno", bin("deno"), ["run", "--sloppy-imports", "--allow-read", "--allow-env", script]],
];

const flags = { roundTrip: true, crossCodec: true, multiMember: true, truncatedErrors: true };

async function check(file: string, args: readonly string[]) {
  const { stdout } = await run(file, args, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout);
}

describe("codecs on every runtime", () => {
  const digests = new Map<string, string>();

  it.each(withBuiltins)("%s: auto picks native; both codecs round-trip, cross-read, read multi-member, reject truncation", async (name, file, args) => {
    const result = await check(file, args);
    expect(result.auto).toBe("native");
    expect(result.native).toMatchObject({ name: "native", ...flags });
    expect(result.portable).toMatchObject({ name: "portable", ...flags });
    expect(result.portable.sha256).toBe(result.native.sha256);
    digests.set(name, result.native.sha256);
  }, 120_000);

  it("without Node built-ins (Workers, browsers): auto picks portable, native is refused", async () => {
    const [file, args] = node();
    const result = await check(file, [...args, "--no-node-builtins"]);
    expect(result.auto).toBe("portable");
    expect(result.native).toMatch(/native codec unavailable/);
    expect(result.portable).toMatchObject({ name: "portable", ...flags });
    digests.set("no built-ins", result.portable.sha256);
  }, 120_000);

  it("every runtime computes the same SHA-256", () => {
    expect(digests.size).toBe(withBuiltins.length + 1);
    expect(new Set(digests.values()).size).toBe(1);
  });
});
