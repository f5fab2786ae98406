/**
 * A command (the built bin, a runtime, a fixture) in a child process, for tests that check what
 * it printed and how it exited.
 */

import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from "node:child_process";

export interface BinResult {
  /** The exit code; null when a signal ended the child. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface BinOptions {
  /** The child's environment besides PATH: none of the test process's own reaches it. */
  env?: Record<string, string>;
  cwd?: string;
  /** Kills the child after this many ms with SIGKILL: the bin answers SIGTERM by waiting for its running operation, which a hung one never ends. */
  timeout?: number;
  /** Called with all of stderr so far, each time more arrives. */
  onStderr?: (stderr: string, child: ChildProcess) => void;
}

/** Starts the child; `done` settles once it has exited and its output has closed, and rejects if it could not start. */
export function startBin(command: string, args: string[], options: BinOptions = {}): { child: ChildProcessWithoutNullStreams; done: Promise<BinResult> } {
  const { env = {}, cwd, timeout, onStderr } = options;
  const child = spawn(command, args, { env: { PATH: process.env.PATH ?? "", ...env }, cwd, timeout, killSignal: "SIGKILL" });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
    onStderr?.(stderr, child);
  });
  const done = new Promise<BinResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

export function runBin(command: string, args: string[], options: BinOptions = {}): Promise<BinResult> {
  return startBin(command, args, options).done;
}
