// Renders the ledger rows the reliability tests wrote ($RELIABILITY_OUT, default <tmpdir>/backupper-reliability)
// as the Markdown tables of docs/RELIABILITY.md:  node test/reliability/report.mjs > /tmp/table.md
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = process.env.RELIABILITY_OUT ?? join(tmpdir(), "backupper-reliability");
const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
const rows = files.flatMap((f) => JSON.parse(readFileSync(join(dir, f), "utf8")).map((r) => ({ ...r, file: f.replace(/\.json$/, ".test.ts") })));
const cell = (s) => String(s).replace(/\|/g, "\\|").replace(/\n/g, " ");
const faults = rows.reduce((n, r) => n + r.faults, 0);
const lost = rows.reduce((n, r) => n + r.bytesLost, 0);
const survived = rows.filter((r) => r.bytesLost === 0).length;
console.log(`**${rows.length} scenarios, ${survived} survived, ${faults} faults injected, ${lost} bytes lost.**\n`);
for (const kind of [...new Set(rows.map((r) => r.kind))]) {
  const group = rows.filter((r) => r.kind === kind);
  console.log(`### ${kind} (${group.length} scenarios, ${group.reduce((n, r) => n + r.faults, 0)} faults, ${group.reduce((n, r) => n + r.bytesLost, 0)} bytes lost)\n`);
  console.log("| scenario | expected | observed | test |\n|---|---|---|---|");
  for (const r of group) console.log(`| ${cell(r.scenario)} | ${cell(r.expected)} | ${cell(r.observed)} | \`${r.file}\` › ${cell(r.test)} |`);
  console.log();
}
