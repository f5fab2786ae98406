import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types, shared with the benchmark.
import { chartSvg, kindOf } from "../../bench/chart.mjs";

const result = (id: string, label: string, mbps: number, peakRssMiB: number, ratio: number) => ({ id, label, mbps, peakRssMiB, ratio, runs: 3 });

describe("bench chart", () => {
  const svg = chartSvg({
    environment: { runtime: "node v20", cores: 2, date: "2026-12-01T00:00:00Z" },
    sizes: {
      "64": {
        backup: [result("shell", "shell `gzip -6`", 45, 3, 1), result("bk-fs", "backupper → fs", 60, 90, 1.33), result("aws", "AWS SDK <Upload>", 42, 115, 0.93)],
        restore: [result("shell-r", "shell `gzip -dc`", 180, 3, 1), result("bk-fs-verify", "backupper verify", 280, 84, 1.55)],
      },
    },
  }) as string;

  it("draws two bars per case (throughput and peak RSS), grouped by size and operation", () => {
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg).toContain("backup, 64 MiB database");
    expect(svg).toContain("restore, 64 MiB database");
    // 5 cases × 2 panels, plus the 3 legend swatches and the background.
    expect(svg.match(/<rect /g)).toHaveLength(5 * 2 + 3 + 1);
    expect(svg).toContain("AWS SDK &lt;Upload&gt;");
  });

  it("colours backupper, its peers and the shell reference apart, and marks the reference", () => {
    expect([kindOf("bk-fs"), kindOf("cli-zstd"), kindOf("aws"), kindOf("restic"), kindOf("shell"), kindOf("pigz-r")]).toEqual(["backupper", "backupper", "peer", "peer", "reference", "reference"]);
    expect(svg).toContain("shell gzip -6 (reference)");
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(2);
    expect(new Set(svg.match(/fill="#[0-9a-f]{6}"/g)).size).toBeGreaterThanOrEqual(3);
  });
});
