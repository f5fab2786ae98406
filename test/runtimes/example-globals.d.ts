/**
 * Just enough of Bun's, Deno's and Workers' APIs for `tsc` (with Node's types only) to check
 * examples/. Users of those runtimes have the real types (bun-types, Deno, `wrangler types`).
 */

declare module "bun:sqlite" {
  interface Statement {
    get(...params: unknown[]): unknown;
    run(...params: unknown[]): unknown;
  }
  export class Database {
    constructor(path: string);
    exec(sql: string): void;
    prepare(sql: string): Statement;
    close(): void;
  }
}

type BunHandler = (request: Request) => Response | Promise<Response>;

declare const Bun: {
  serve(options: {
    port?: number;
    routes: Record<string, BunHandler | Partial<Record<"GET" | "POST" | "PUT" | "DELETE", BunHandler>>>;
  }): { url: URL; stop(): void };
};

declare const Deno: {
  args: string[];
  env: { get(name: string): string | undefined };
};

interface ScheduledController {
  readonly cron: string;
  readonly scheduledTime: number;
}

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

interface ExportedHandler<Env> {
  fetch?(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response>;
  scheduled?(controller: ScheduledController, env: Env, ctx: ExecutionContext): void | Promise<void>;
}
