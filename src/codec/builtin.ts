/**
 * Runtime lookup of Node built-in modules, so the core never imports `node:*` statically
 * and still runs (on the portable codec) where they do not exist. The one loader of the library.
 */

type ProcessWithBuiltins = { getBuiltinModule?: (id: string) => unknown };

const runtimeProcess = (): ProcessWithBuiltins | undefined => (globalThis as { process?: ProcessWithBuiltins }).process;

/** The built-in module `id` where the runtime hands it out synchronously: Node >= 20.16, Bun, Deno 2, workerd (nodejs_compat). */
export function builtinModule<T>(id: string): T | undefined {
  return runtimeProcess()?.getBuiltinModule?.(id) as T | undefined;
}

/** The built-in module `id` (e.g. `"node:zlib"`), or undefined where the runtime has none. */
export async function loadBuiltin<T>(id: string): Promise<T | undefined> {
  const direct = builtinModule<T>(id);
  if (direct) return direct;
  if (!runtimeProcess()) return undefined;
  // Older Node 20: a dynamic import whose specifier is a variable, so bundlers for
  // browsers and Workers leave it alone instead of trying to resolve `node:*`.
  const specifier = id;
  try {
    return (await import(/* @vite-ignore */ specifier)) as T;
  } catch {
    return undefined;
  }
}
