/** What every command gets: its configuration, where to write, and the signal that SIGINT/SIGTERM abort. */
import type { CliConfig } from "../config.js";
import type { ExitCode } from "../exit-codes.js";
import type { Output } from "../output.js";

interface Context {
  config: CliConfig;
  out: Output;
  /** Aborted by the first SIGINT/SIGTERM (`run` handles signals itself). */
  signal: AbortSignal;
  /** Registers what a SIGINT/SIGTERM does instead of aborting `signal`; `second` is true from the second signal on. */
  onSignal(handler: (second: boolean) => void): void;
}

export type Command = (ctx: Context) => Promise<ExitCode>;
