/** The vitest side of the runtime table (./runtimes.ts): what a test does when its runtime is absent. */
import { it } from "vitest";
import type { Runtime } from "./runtimes.js";

const warned = new Set<string>();

/**
 * `it` for a test on `runtime`. Where the runtime is missing (./runtimes.ts says why), the test
 * is skipped, with a console line saying why; under CI=true it fails with that reason instead:
 * CI installs every runtime, so a missing one there is a broken install, not a choice.
 */
export function itOn(runtime: Runtime) {
  return (name: string, fn: () => Promise<void> | void, timeout?: number): void => {
    const reason = runtime.missing;
    if (reason === undefined) {
      it(name, fn, timeout);
    } else if (process.env.CI === "true") {
      it(name, () => {
        throw new Error(`runtime ${runtime.name} is required under CI=true: ${reason}`);
      });
    } else {
      const line = `runtime ${runtime.name} skipped: ${reason}`;
      if (!warned.has(runtime.id)) console.warn(line);
      warned.add(runtime.id);
      it.skip(`${name} (${line})`, fn);
    }
  };
}

