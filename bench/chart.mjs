// Renders bench results as one plain SVG: per database size and operation, throughput and peak RSS
// of every case as horizontal bars; backupper, its peers and the shell reference in distinct
// colours, the shell pipeline (each group's ratio-1 case) also drawn as a dashed line across the
// throughput bars. No charting dependency: the picture is a few hundred rects and texts.
//
//   node bench/chart.mjs [results.json] [out.svg]   (run.mjs calls chartSvg after each run)
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const COLOURS = { backupper: "#2563eb", peer: "#f59e0b", reference: "#6b7280" };
const LABEL_W = 390;
const BAR_W = 300;
const GAP = 40;
const ROW = 18;
const TITLE = 26;

/** Which of the three a case is: ours, another tool, or the shell pipeline it is measured against. */
export function kindOf(id) {
  if (id.startsWith("bk-") || id.startsWith("cli-")) return "backupper";
  if (/^(shell|pigz|zstd|gzip)/.test(id)) return "reference";
  return "peer";
}

const escape = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/`/g, "");
const round = (n) => (n >= 100 ? Math.round(n) : Math.round(n * 10) / 10);

function panel(x, y, cases, value, unit, max, reference) {
  const scale = (v) => (max > 0 ? (v / max) * BAR_W : 0);
  const parts = cases.map((c, i) => {
    const top = y + i * ROW;
    const w = Math.max(1, scale(value(c)));
    return `<rect x="${x}" y="${top + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${COLOURS[kindOf(c.id)]}"/>` +
      `<text x="${(x + w + 4).toFixed(1)}" y="${top + ROW - 5}" class="v">${round(value(c))} ${unit}</text>`;
  });
  if (reference !== undefined) {
    const rx = (x + scale(reference)).toFixed(1);
    parts.push(`<line x1="${rx}" y1="${y}" x2="${rx}" y2="${y + cases.length * ROW}" stroke="${COLOURS.reference}" stroke-dasharray="3 3"/>`);
  }
  return parts.join("");
}

/** The SVG document for bench/results.json's `sizes`. */
export function chartSvg(results) {
  const groups = [];
  for (const [size, ops] of Object.entries(results.sizes)) {
    for (const [op, cases] of Object.entries(ops)) if (cases.length > 0) groups.push({ title: `${op}, ${size} MiB database`, cases });
  }
  const maxMbps = Math.max(...groups.flatMap((g) => g.cases.map((c) => c.mbps)));
  const maxRss = Math.max(...groups.flatMap((g) => g.cases.map((c) => c.peakRssMiB)));
  const width = LABEL_W + 2 * (BAR_W + 70) + GAP + 20;
  let y = 40;
  const body = [];
  for (const g of groups) {
    body.push(`<text x="8" y="${y + 16}" class="h">${escape(g.title)}</text>`);
    body.push(`<text x="${LABEL_W}" y="${y + 16}" class="c">throughput (MB/s of original data)</text>`);
    body.push(`<text x="${LABEL_W + BAR_W + 70 + GAP}" y="${y + 16}" class="c">peak RSS (MiB)</text>`);
    y += TITLE;
    g.cases.forEach((c, i) => {
      const marker = kindOf(c.id) === "reference" ? " (reference)" : "";
      const label = c.label.length > 60 ? `${c.label.slice(0, 59)}…` : c.label;
      body.push(`<text x="${LABEL_W - 8}" y="${y + i * ROW + ROW - 5}" class="l">${escape(label)}${marker}</text>`);
    });
    const reference = g.cases.find((c) => c.ratio === 1 && kindOf(c.id) === "reference")?.mbps;
    body.push(panel(LABEL_W, y, g.cases, (c) => c.mbps, "MB/s", maxMbps, reference));
    body.push(panel(LABEL_W + BAR_W + 70 + GAP, y, g.cases, (c) => c.peakRssMiB, "MiB", maxRss));
    y += g.cases.length * ROW + 18;
  }
  const env = results.environment ?? {};
  const legend = Object.entries(COLOURS)
    .map(([k, colour], i) => `<rect x="${8 + i * 150}" y="12" width="12" height="12" fill="${colour}"/><text x="${24 + i * 150}" y="22" class="c">${k}</text>`)
    .join("");
  const note = `<text x="${8 + 3 * 150}" y="22" class="c">${escape(`${env.runtime ?? ""}, ${env.cores ?? "?"} cores, ${env.date?.slice(0, 10) ?? ""}; dashed: the shell pipeline`)}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" viewBox="0 0 ${width} ${y + 10}" font-family="sans-serif">
<style>.h{font-size:13px;font-weight:bold}.l{font-size:11px;text-anchor:end}.v{font-size:10px;fill:#374151}.c{font-size:11px;fill:#374151}</style>
<rect width="100%" height="100%" fill="white"/>${legend}${note}
${body.join("\n")}
</svg>
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = process.argv[2] ?? fileURLToPath(new URL("results.json", import.meta.url));
  const output = process.argv[3] ?? fileURLToPath(new URL("results.svg", import.meta.url));
  writeFileSync(output, chartSvg(JSON.parse(readFileSync(input, "utf8"))));
  console.log(`wrote ${output}`);
}
