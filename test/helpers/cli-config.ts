/** The CLI's parsed settings, as the config tests read them: `config` for a command's, `failure` for what parsing threw. */
import { parseConfig, type CliConfig, type Env } from "../../src/cli/config.js";

export function config(argv: string[], env: Env): CliConfig {
  const invocation = parseConfig(argv, env);
  if (invocation.kind !== "command") throw new Error(`expected a command, got ${invocation.kind}`);
  return invocation.config;
}

export function failure(argv: string[], env: Env): Error {
  try {
    config(argv, env);
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}
