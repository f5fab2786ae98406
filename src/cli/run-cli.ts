/**
 * One invocation of the bin, as a function of its arguments, environment and streams: parse
 * the configuration, run the command, map any error to an exit code and a message that never
 * carries a secret.
 */
import { BackupError, messageOf, RestoreCapError } from "../errors.js";
import { VERSION } from "../version.js";
import { COMMAND_NAMES, type CommandName } from "./args.js";
import { now } from "./commands/now.js";
import { list } from "./commands/list.js";
import { restore } from "./commands/restore.js";
import { verify } from "./commands/verify.js";
import { drill } from "./commands/drill.js";
import { status } from "./commands/status.js";
import { prune } from "./commands/prune.js";
import { run } from "./commands/run.js";
import type { Command } from "./commands/context.js";
import { parseConfig, type Env } from "./config.js";
import { EXIT_CODES, exitCodeOf, type ExitCode } from "./exit-codes.js";
import { helpText } from "./help.js";
import { createOutput, redactor, type Streams } from "./output.js";

const COMMANDS: Record<CommandName, Command> = { now, list, restore, verify, drill, status, prune, run };

// A notify URL is a secret too: healthchecks.io and most webhooks carry their token in it.
const SECRET_VARIABLES = ["S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "S3_SESSION_TOKEN", "AWS_SESSION_TOKEN", "BACKUP_PASSPHRASE", "BACKUP_NOTIFY_URL"];

/** The library's messages name its options; these name the flags. */
const HINTS: Record<string, string> = {
  TARGET_EXISTS: "use -f/--force to replace it",
  UNVERIFIED: "use --allow-unverified to restore it anyway",
  DECRYPT: "give the key with --identity <file>, BACKUP_AGE_IDENTITY_FILE, or BACKUP_PASSPHRASE / BACKUP_PASSPHRASE_FILE",
};

export interface Process extends Streams {
  /** Subscribes to SIGINT/SIGTERM; returns the unsubscribe. */
  onSignal(listener: () => void): () => void;
  /** Ends the process at once (a second signal during a one-shot command). */
  exit(code: number): never;
}

export async function runCli(argv: readonly string[], env: Env, proc: Process): Promise<ExitCode> {
  const out = createOutput(proc, redactor(SECRET_VARIABLES.map((name) => env[name])));
  const json = argv.includes("--json");
  let handler: ((second: boolean) => void) | undefined;
  const controller = new AbortController();
  let signals = 0;
  const unsubscribe = proc.onSignal(() => {
    signals += 1;
    if (handler) return handler(signals > 1);
    if (signals > 1) {
      out.warn("interrupted again: exiting now");
      proc.exit(EXIT_CODES.INTERRUPTED);
    }
    controller.abort(new Error("interrupted by signal"));
  });
  try {
    const invocation = parseConfig(argv, env);
    if (invocation.kind === "version") {
      out.line(`backupper ${VERSION}`);
      return EXIT_CODES.OK;
    }
    if (invocation.kind === "help") {
      // A bare `backupper` is a mistake a script should notice; `backupper help` is not.
      const bare = !argv.some((a) => a === "help" || a === "--help" || a === "-h");
      (bare ? out.warn : out.line)(helpText(invocation.command).trimEnd());
      return bare ? EXIT_CODES.USAGE : EXIT_CODES.OK;
    }
    const { config } = invocation;
    return await COMMANDS[config.command]({
      config,
      out,
      signal: controller.signal,
      onSignal: (h) => void (handler = h),
    });
  } catch (error) {
    const code = exitCodeOf(error);
    const message = messageOf(error);
    const errorCode = BackupError.is(error) ? error.code : "UNEXPECTED";
    out.warn(`backupper: ${code === EXIT_CODES.UNEXPECTED ? "unexpected error: " : ""}${message}`);
    if (!json) {
      const command = COMMAND_NAMES.find((c) => argv.includes(c));
      const hint =
        errorCode === "CONFIG"
          ? `see backupper ${command ? `${command} --help` : "--help"}`
          : error instanceof RestoreCapError
            ? "raise the cap with --max-restore-bytes <size> or BACKUP_MAX_RESTORE_BYTES"
            : HINTS[errorCode];
      if (hint) out.warn(`(${hint})`);
    }
    if (json) out.json({ ok: false, error: { code: errorCode, exitCode: code, message } });
    return code;
  } finally {
    unsubscribe();
  }
}
