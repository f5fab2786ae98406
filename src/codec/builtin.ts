/**
 * Runtime lookup of Node built-in modules, so the core never imports `node:*` statically
 * and still runs (on the portable codec) where they do not exist.
 */

type ProcessWithBuiltins = { getBuiltinModule?: (id: string) => unknown };

/** The built-in module `id` (e.g. `"node:zlib"`), or undefined where the runtime has none. */
export async function loadBuiltin<T>(id: string): Promise<T | undefined> {
  const proc = (globalThis as { process?: ProcessWithBuiltins }).process;
  // Node >= 20.16, Bun, Deno 2 and workerd (nodejs_compat) answer synchronously.
  const direct = proc?.getBuiltinModule?.(id);
  if (direct) return direct as T;
  if (!proc) return undefined;
  // Older Node 20: a dynamic import whose specifier is a variable, so bundlers for
  // browsers and Workers leave it alone instead of trying to resolve `node:*`.
  const specifier = id;
  try {
    return (await import(/* @vite-ignore */ specifier)) as T;
  } catch {
    return undefined;
  }
}
