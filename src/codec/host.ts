/**
 * The host name and process id, for the lease object and notifications, where the runtime has
 * them: Node, Bun and Deno through `node:os` (found by the codec's loader of built-ins) and `process`;
 * a Worker has neither, and leaves them out.
 */
import { loadBuiltin } from "./builtin.js";

export interface HostFacts {
  host?: string;
  pid?: number;
}

let facts: Promise<HostFacts> | undefined;

export function hostFacts(): Promise<HostFacts> {
  facts ??= (async () => {
    const os = await loadBuiltin<{ hostname(): string }>("node:os");
    const pid = (globalThis as { process?: { pid?: unknown } }).process?.pid;
    let host: string | undefined;
    try {
      host = os?.hostname();
    } catch {
      // Deno without --allow-sys: the name is simply not known.
    }
    return { ...(host ? { host } : {}), ...(typeof pid === "number" ? { pid } : {}) };
  })();
  return facts;
}
