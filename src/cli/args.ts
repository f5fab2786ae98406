/** The command line: which command, its key argument, and its flags, checked against what each command accepts. */
import { parseArgs } from "node:util";
import { BackupError, messageOf } from "../errors.js";

/** A command line the bin cannot run: unknown command or flag, missing or extra argument. Exits with the usage code. */
export class UsageError extends BackupError {
  override name = "UsageError";
  constructor(message: string) {
    super("CONFIG", message);
  }
}

export const COMMAND_NAMES = ["now", "list", "restore", "verify", "drill", "status", "prune", "run"] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

const OPTIONS = {
  source: { type: "string" },
  name: { type: "string" },
  dir: { type: "string" },
  prefix: { type: "string" },
  retention: { type: "string" },
  interval: { type: "string" },
  "initial-delay": { type: "string" },
  "compression-workers": { type: "string" },
  compression: { type: "string" },
  "compression-level": { type: "string" },
  "max-age": { type: "string" },
  "max-restore-bytes": { type: "string" },
  "drill-interval": { type: "string" },
  textfile: { type: "string" },
  to: { type: "string" },
  recipient: { type: "string", multiple: true },
  identity: { type: "string", multiple: true },
  force: { type: "boolean", short: "f" },
  "allow-unverified": { type: "boolean" },
  "dry-run": { type: "boolean" },
  latest: { type: "boolean" },
  random: { type: "boolean" },
  prometheus: { type: "boolean" },
  json: { type: "boolean" },
  lease: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

type FlagName = keyof typeof OPTIONS;

/** Flags every command takes: what to back up, where, and how the backups are named and kept. */
const COMMON_FLAGS = ["source", "name", "dir", "prefix", "retention", "interval"] as const satisfies readonly FlagName[];

/** What each command takes beyond the common flags; `key`: whether it takes a backup key, and must. */
const COMMAND_FLAGS: Record<CommandName, { key: boolean | "optional"; flags: readonly FlagName[] }> = {
  now: { key: false, flags: ["compression", "compression-level", "compression-workers", "recipient", "textfile", "lease", "json"] },
  list: { key: false, flags: ["json"] },
  restore: { key: true, flags: ["force", "to", "allow-unverified", "max-restore-bytes", "identity", "json"] },
  verify: { key: true, flags: ["identity", "json"] },
  drill: { key: "optional", flags: ["latest", "random", "identity", "textfile", "json"] },
  status: { key: false, flags: ["max-age", "prometheus", "textfile", "json"] },
  prune: { key: false, flags: ["dry-run", "json"] },
  run: { key: false, flags: ["initial-delay", "drill-interval", "compression", "compression-level", "compression-workers", "recipient", "textfile", "lease"] },
};

/** Whether `command` takes `--flag`: a variable standing for a flag applies only where the flag would. */
export function takesFlag(command: CommandName, flag: FlagName): boolean {
  return (COMMON_FLAGS as readonly FlagName[]).includes(flag) || COMMAND_FLAGS[command].flags.includes(flag);
}

export interface Flags {
  source?: string;
  name?: string;
  dir?: string;
  prefix?: string;
  retention?: string;
  interval?: string;
  "initial-delay"?: string;
  "compression-workers"?: string;
  compression?: string;
  "compression-level"?: string;
  "max-age"?: string;
  "max-restore-bytes"?: string;
  "drill-interval"?: string;
  textfile?: string;
  to?: string;
  recipient?: string[];
  identity?: string[];
  force?: boolean;
  "allow-unverified"?: boolean;
  "dry-run"?: boolean;
  latest?: boolean;
  random?: boolean;
  prometheus?: boolean;
  json?: boolean;
  lease?: boolean;
}

export type CommandLine =
  | { kind: "help"; command: CommandName | undefined }
  | { kind: "version" }
  | { kind: "command"; command: CommandName; key: string | undefined; flags: Flags };

function isCommand(word: string | undefined): word is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(word ?? "");
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // node:util's messages name the flag ("Unknown option '--frob'"); keep them, minus its hints about `--`.
    throw new UsageError(messageOf(error).replace(/\. To specify a positional argument.*$/s, ""));
  }
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const { values, positionals } = parse(argv);
  const [first, ...rest] = positionals;
  if (values.version && first === undefined) return { kind: "version" };
  if (first === undefined) return { kind: "help", command: undefined };
  if (first === "help") {
    const about = rest[0];
    if (about !== undefined && !isCommand(about)) throw new UsageError(`unknown command "${about}" (commands: ${COMMAND_NAMES.join(", ")})`);
    return { kind: "help", command: about };
  }
  if (!isCommand(first)) throw new UsageError(`unknown command "${first}" (commands: ${COMMAND_NAMES.join(", ")}, help)`);
  if (values.help) return { kind: "help", command: first };

  const accepted = new Set<string>([...COMMON_FLAGS, ...COMMAND_FLAGS[first].flags]);
  for (const flag of Object.keys(values)) {
    if (!accepted.has(flag)) throw new UsageError(`${first} does not take --${flag}`);
  }
  const wantsKey = COMMAND_FLAGS[first].key;
  if (wantsKey === true && rest.length === 0) throw new UsageError(`${first} needs the key of a backup (see backupper list)`);
  if (rest.length > (wantsKey ? 1 : 0)) throw new UsageError(`${first}: unexpected argument "${rest[wantsKey ? 1 : 0]}"`);
  const { help: _help, version: _version, ...flags } = values;
  const picks = [rest[0] === undefined ? undefined : "a key", flags.latest ? "--latest" : undefined, flags.random ? "--random" : undefined].filter(Boolean);
  if (first === "drill" && picks.length > 1) throw new UsageError(`drill takes one of a key, --latest or --random, got ${picks.join(" and ")}`);
  if (flags.prometheus && flags.json) throw new UsageError(`${first} takes --prometheus or --json, not both`);
  return { kind: "command", command: first, key: wantsKey ? rest[0] : undefined, flags };
}
