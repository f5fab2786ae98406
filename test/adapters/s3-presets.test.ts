/**
 * The README's provider table against the presets in code: every row's preset call is run
 * and its region, endpoint, addressing and concurrency compared with the row, and every
 * preset `backupper/s3` exports has a row.
 */

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as s3 from "../../src/adapters/s3.js";
import { resolveS3Options } from "../../src/adapters/s3/options.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const header = "| provider | preset | region | endpoint | path style | concurrency | known limits |";
const rows = readme
  .slice(readme.indexOf(header))
  .split("\n")
  .slice(2)
  .filter((line, i, all) => line.startsWith("|") && all.slice(0, i).every((l) => l.startsWith("|")))
  .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim().replace(/^`|`$/g, "")));

type PresetFn = (opts?: Record<string, string>) => s3.S3AdapterOptions;
const presets = s3 as unknown as Record<string, PresetFn>;
const PRESET_NAMES = Object.keys(s3).filter((name) => !["s3Adapter", "S3Error"].includes(name));

function run(call: string): ReturnType<PresetFn> {
  const m = /^(\w+)\((.*)\)$/.exec(call);
  if (!m) throw new Error(`not a preset call: ${call}`);
  const args = m[2] ? (JSON.parse(m[2].replace(/([{,]\s*)(\w+):/g, '$1"$2":')) as Record<string, string>) : undefined;
  return presets[m[1]!]!(args);
}

describe("README provider table", () => {
  it("has a row for each of the 13 providers and each exported preset", () => {
    expect(rows).toHaveLength(13);
    expect(rows.map((r) => /^\w+/.exec(r[1]!)![0]).sort()).toEqual(PRESET_NAMES.sort());
  });

  it.each(rows.map((r) => [r[0]!, r]))("%s: the row says what the preset does", (_provider, row) => {
    const [, call, region, endpoint, pathStyle, concurrency] = row as string[];
    const preset = run(call!);
    const resolved = resolveS3Options({ ...preset, bucket: "bkt", accessKeyId: "A", secretAccessKey: "S" });
    expect(preset.region).toBe(region);
    expect(resolved.region).toBe(region);
    expect(preset.endpoint ?? "—").toBe(endpoint);
    expect(resolved.bucketUrl.endsWith("/bkt") ? "yes" : "no").toBe(pathStyle);
    expect(String(resolved.concurrency)).toBe(concurrency);
  });
});
