#!/usr/bin/env node
/** The `backupper` bin: `runCli` on this process. The exit code is set, not forced, so output is flushed first. */
import { runCli } from "./run-cli.js";
import { messageOf } from "../errors.js";

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

runCli(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
  onSignal(listener) {
    for (const s of SIGNALS) process.on(s, listener);
    return () => SIGNALS.forEach((s) => process.off(s, listener));
  },
  exit: (code) => process.exit(code),
}).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`backupper: unexpected error: ${messageOf(error)}\n`);
    process.exitCode = 1;
  },
);
