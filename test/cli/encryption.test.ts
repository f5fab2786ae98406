/**
 * The bin's age keys: BACKUP_AGE_RECIPIENTS (commas or spaces), --recipient, recipients and
 * identity files in age's formats, passphrases from the environment or a file; a restore
 * without a key exits 4 saying how to give one; an identity file others may read is warned
 * about; and no output ever carries an identity or a passphrase.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptionSettings, loadEncryption } from "../../src/cli/encryption.js";
import { redactor } from "../../src/cli/output.js";
import { runCli } from "../../src/cli/run-cli.js";
import { ConfigError } from "../../src/errors.js";
import { randomBytes, sha256 } from "../helpers/data.js";

let dir: string;
let identity: string;
let recipient: string;
let identityFile: string;
const outputs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "backupper-cli-age-"));
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  identityFile = join(dir, "key.txt");
  // As age-keygen writes it.
  await writeFile(identityFile, `# created: 2026-11-26T12:00:00Z\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function cli(args: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, { BACKUP_DIR: join(dir, "store"), ...env }, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    onSignal: () => () => undefined,
    exit: (c: number) => {
      throw new Error(`exit ${c}`);
    },
  });
  outputs.push(stdout, stderr);
  return { code, stdout, stderr };
}

describe("encryption settings", () => {
  it("take recipients from --recipient or BACKUP_AGE_RECIPIENTS, separated by commas or spaces", () => {
    expect(encryptionSettings({ BACKUP_AGE_RECIPIENTS: "age1a, age1b age1c" }, {}).recipients).toEqual(["age1a", "age1b", "age1c"]);
    expect(encryptionSettings({ BACKUP_AGE_RECIPIENTS: "age1a" }, { recipient: ["age1x", "age1y"] }).recipients).toEqual(["age1x", "age1y"]);
    expect(encryptionSettings({ BACKUP_AGE_IDENTITY_FILE: "/k" }, {}).identityFiles).toEqual(["/k"]);
    expect(() => encryptionSettings({ BACKUP_PASSPHRASE: "p", BACKUP_PASSPHRASE_FILE: "/p" }, {})).toThrow(ConfigError);
  });

  it("read age's recipients and identity files, skipping comments, and warn about an identity file others may read", async () => {
    const recipientsFile = join(dir, "recipients.txt");
    await writeFile(recipientsFile, `# backup keys\n${recipient}\n\nage1second\n`);
    const warnings: string[] = [];
    const concealed: string[] = [];
    const report = { warn: (w: string) => void warnings.push(w), conceal: (secret: string) => void concealed.push(secret) };
    expect(await loadEncryption({ ...encryptionSettings({}, {}), recipientsFile }, report)).toEqual({ recipients: [recipient, "age1second"], identities: [] });
    expect(concealed).toEqual([]);
    expect(await loadEncryption({ ...encryptionSettings({}, {}), identityFiles: [identityFile] }, report)).toEqual({ recipients: [], identities: [identity] });
    expect(warnings).toEqual([]);
    expect(concealed).toEqual([identity]);
    const shared = join(dir, "shared-key.txt");
    await writeFile(shared, `${identity}\n`);
    await chmod(shared, 0o644);
    await loadEncryption({ ...encryptionSettings({}, {}), identityFiles: [shared] }, report);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/shared-key\.txt is readable by group or others \(mode 644\)/);
    expect(warnings[0]).not.toContain(identity);
    const passphraseFile = join(dir, "pass.txt");
    await writeFile(passphraseFile, "correct horse\n", { mode: 0o600 });
    expect(await loadEncryption({ ...encryptionSettings({}, {}), passphraseFile }, report)).toEqual({ recipients: [], identities: [], passphrase: "correct horse" });
    expect(concealed.at(-1)).toBe("correct horse");
    await expect(loadEncryption({ ...encryptionSettings({}, {}), identityFiles: [join(dir, "missing.txt")] }, report)).rejects.toThrow(/missing\.txt/);
  });
});

describe("the redactor", () => {
  it("redacts a secret learnt after it was made, in text and JSON", () => {
    const redact = redactor([]);
    expect(redact(`key ${identity}`)).toContain(identity);
    redact.add(identity);
    expect(redact(`key ${identity}`)).toBe("key ***");
    expect(JSON.stringify(redact({ [identity]: [identity] }))).not.toContain(identity);
  });
});

describe("the bin with age keys", () => {
  it("backs up with --recipient, lists it as encrypted, refuses to restore without a key (exit 4) and restores with --identity", async () => {
    const source = join(dir, "queue.db");
    const data = randomBytes(100_000);
    await writeFile(source, data);
    const made = await cli(["now", "--source", source, "--recipient", recipient, "--json"]);
    expect(made.code).toBe(0);
    const { backup } = JSON.parse(made.stdout) as { backup: { key: string; encrypted: boolean; checksum: string | null } };
    expect(backup).toMatchObject({ encrypted: true, checksum: null });
    expect(backup.key).toMatch(/\.db\.gz\.age$/);
    const listed = await cli(["list", "--source", source]);
    expect(listed.stdout).toContain("[encrypted: age]");

    const target = join(dir, "restored.db");
    const refused = await cli(["restore", backup.key, "--source", source, "--to", target]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/encrypted/);
    expect(refused.stderr).toMatch(/--identity/);
    const restored = await cli(["restore", backup.key, "--source", source, "--to", target, "--identity", identityFile]);
    expect(restored.code).toBe(0);
    expect(sha256(await readFile(target))).toBe(sha256(data));
    expect((await cli(["verify", backup.key, "--source", source], { BACKUP_AGE_IDENTITY_FILE: identityFile })).code).toBe(0);
  });

  it("encrypts with BACKUP_PASSPHRASE, and a wrong one exits 4 without printing either", async () => {
    const source = join(dir, "pass.db");
    await writeFile(source, randomBytes(10_000));
    const made = await cli(["now", "--source", source, "--json"], { BACKUP_PASSPHRASE: "right passphrase here" });
    expect(made.code).toBe(0);
    const { backup } = JSON.parse(made.stdout) as { backup: { key: string } };
    const wrong = await cli(["verify", backup.key, "--source", source, "--json"], { BACKUP_PASSPHRASE: "wrong passphrase here" });
    expect(wrong.code).toBe(4);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, error: { code: "DECRYPT" } });
  }, 60_000);

  it("status says how backups are encrypted, by counts and file names", async () => {
    const text = (await cli(["status", "--name", "queue"], { BACKUP_AGE_RECIPIENTS: `${recipient},${recipient}`, BACKUP_AGE_IDENTITY_FILE: identityFile })).stdout;
    expect(text).toContain(`Encryption   age to 2 recipients; decrypts with ${identityFile}`);
    expect((await cli(["status", "--name", "queue"], { BACKUP_PASSPHRASE: "right passphrase here" })).stdout).toContain("Encryption   age with a passphrase");
    expect((await cli(["status", "--name", "queue"])).stdout).toContain("Encryption   none");
  });

  it("never printed an identity or a passphrase", () => {
    const all = outputs.join("\n");
    for (const secret of [identity, "right passphrase here", "wrong passphrase here", "correct horse"]) expect(all).not.toContain(secret);
  });
});
