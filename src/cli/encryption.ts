/**
 * The bin's age keys: which variables and flags name them (a pure function of env and flags, as
 * the rest of config.ts), and reading the files they name when a command sets up its backupper.
 * Secrets (identities, passphrases) never go into a message: errors name the file or variable.
 */
import { readFile, stat } from "node:fs/promises";
import { ConfigError, messageOf } from "../errors.js";
import type { EncryptionOptions } from "../options.js";
import type { Flags } from "./args.js";

export interface EncryptionSettings {
  /** Recipients given inline (`--recipient`, `BACKUP_AGE_RECIPIENTS`). */
  recipients: string[];
  /** An age recipients file (`BACKUP_AGE_RECIPIENTS_FILE`): one `age1…` a line, `#` comments. */
  recipientsFile: string | undefined;
  /** age identity files (`--identity`, `BACKUP_AGE_IDENTITY_FILE`), as `age-keygen` writes them. */
  identityFiles: string[];
  /** `BACKUP_PASSPHRASE`. */
  passphrase: string | undefined;
  /** `BACKUP_PASSPHRASE_FILE`: its first line is the passphrase. */
  passphraseFile: string | undefined;
}

const set = (value: string | undefined) => (value === undefined || value === "" ? undefined : value);

export function encryptionSettings(env: Readonly<Record<string, string | undefined>>, flags: Flags): EncryptionSettings {
  const inline = flags.recipient ?? set(env.BACKUP_AGE_RECIPIENTS)?.split(/[\s,]+/) ?? [];
  const identityFile = set(env.BACKUP_AGE_IDENTITY_FILE);
  const settings = {
    recipients: inline.filter((r) => r !== ""),
    recipientsFile: set(env.BACKUP_AGE_RECIPIENTS_FILE),
    identityFiles: flags.identity ?? (identityFile === undefined ? [] : [identityFile]),
    passphrase: set(env.BACKUP_PASSPHRASE),
    passphraseFile: set(env.BACKUP_PASSPHRASE_FILE),
  };
  if (settings.passphrase !== undefined && settings.passphraseFile !== undefined) {
    throw new ConfigError("BACKUP_PASSPHRASE", "and BACKUP_PASSPHRASE_FILE are both set: unset one");
  }
  return settings;
}

/** How new backups are encrypted and what can decrypt, for `status`: counts and file names, never a key. */
export function describeEncryption(settings: EncryptionSettings): string {
  const recipients = [
    ...(settings.recipients.length > 0 ? [`${settings.recipients.length} recipient${settings.recipients.length === 1 ? "" : "s"}`] : []),
    ...(settings.recipientsFile === undefined ? [] : [`recipients from ${settings.recipientsFile}`]),
  ];
  const passphrase = settings.passphrase !== undefined || settings.passphraseFile !== undefined;
  const writes = recipients.length > 0 ? `age to ${recipients.join(" and ")}` : passphrase ? "age with a passphrase" : "none";
  const reads = [...settings.identityFiles, ...(passphrase && recipients.length > 0 ? ["a passphrase"] : [])];
  return reads.length > 0 ? `${writes}; decrypts with ${reads.join(", ")}` : writes;
}

async function readKeyFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(what, `cannot read ${path}: ${messageOf(error)}`, { cause: error });
  }
}

/** The lines of an age key file that are keys: neither blank nor `#` comments. */
const keyLines = (text: string) => text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));

/** A secret file that others may read is warned about, as ssh does for a private key. */
async function warnIfShared(path: string, warn: (text: string) => void): Promise<void> {
  const { mode } = await stat(path);
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    warn(`backupper: warning: ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  }
}

/** Where loading keys reports: a warning, and each secret read from a file, which output must redact from then on. */
export interface KeyReport {
  warn(text: string): void;
  conceal(secret: string): void;
}

/** The `encryption` option the settings make, reading the files they name. */
export async function loadEncryption(settings: EncryptionSettings, report: KeyReport): Promise<EncryptionOptions | undefined> {
  const recipients = [...settings.recipients];
  if (settings.recipientsFile !== undefined) recipients.push(...keyLines(await readKeyFile(settings.recipientsFile, "BACKUP_AGE_RECIPIENTS_FILE")));
  const identities: string[] = [];
  for (const file of settings.identityFiles) {
    const keys = keyLines(await readKeyFile(file, "identity file"));
    if (keys.length === 0) throw new ConfigError("identity file", `${file} holds no age identity (AGE-SECRET-KEY-1…)`);
    keys.forEach((key) => report.conceal(key));
    await warnIfShared(file, report.warn);
    identities.push(...keys);
  }
  let passphrase = settings.passphrase;
  if (settings.passphraseFile !== undefined) {
    passphrase = (await readKeyFile(settings.passphraseFile, "BACKUP_PASSPHRASE_FILE")).split(/\r?\n/)[0]!;
    report.conceal(passphrase);
    await warnIfShared(settings.passphraseFile, report.warn);
  }
  if (recipients.length === 0 && identities.length === 0 && passphrase === undefined) return undefined;
  return { recipients, identities, ...(passphrase === undefined ? {} : { passphrase }) };
}
