/** The CLI's parsed settings, as the config tests read them: `config` for a command's, `failure` for what parsing threw, `configError` when that must be a ConfigError. */
import { expect } from "vitest";
import { parseConfig, type CliConfig, type Env } from "../../src/cli/config.js";
import { ConfigError } from "../../src/errors.js";

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

/** What parsing threw, which must be a ConfigError. */
export function configError(argv: string[], env: Env): ConfigError {
  const error = failure(argv, env);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}
