/**
 * Review finding: `--json` redacted the text after `JSON.stringify`, so a secret JSON escapes
 * (a newline, `"`, `\`, control characters, lone surrogates) printed in full on stdout. Values
 * are now redacted before they are serialised, and every form a secret takes in a message
 * (trimmed, line by line, JSON-escaped, URL-encoded, XML-escaped) is masked. Assertions test
 * with `includes` and report a boolean, so a failure never prints a secret.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeXml } from "../../src/adapters/s3/xml.js";
import { createOutput, redactor } from "../../src/cli/output.js";
import { ledger } from "../reliability/ledger.js";

const log = ledger(import.meta.filename);

/** The secret, or its JSON-escaped form, is in `text`. */
function leaks(text: string, secret: string): boolean {
  return text.includes(secret) || text.includes(JSON.stringify(secret).slice(1, -1));
}

function capture(secrets: (string | undefined)[]) {
  const written = { stdout: "", stderr: "" };
  const out = createOutput(
    { stdout: { write: (t: string) => (written.stdout += t) }, stderr: { write: (t: string) => (written.stderr += t) } },
    redactor(secrets),
  );
  return { out, written };
}

/** Secrets JSON escapes or that arrive transformed; fixed letters around them, which no escape sequence ends or starts with. */
const TOKENS = [
  'QXZtoken-with\n"a newline and a quote"ZXQ',
  "QXZback\\slash\\and\ttabZXQ",
  "QXZcontrol\u0001\u001f\u007fcharsZXQ",
  "QXZnon-ascii-é-ß-€-😀ZXQ",
  "QXZlone-\ud800-surrogateZXQ",
  "QXZpasted-on-windows\r\nsecond-lineZXQ",
];

describe("redaction of --json output", () => {
  it("masks secrets that JSON escapes, in messages, keys, arrays and toJSON values", () => {
    for (const token of TOKENS) {
      const { out, written } = capture([token]);
      const message = `[s3] list: request failed: Headers.set: "${token}" is an invalid header value.`;
      out.json({ ok: false, error: { code: "ADAPTER", message }, [token]: [token, { at: new Date(0), nested: `x${token}y` }] });
      out.warn(`backupper: ${message}`);
      expect(leaks(written.stdout, token)).toBe(false);
      expect(leaks(written.stderr, token)).toBe(false);
      const parsed = JSON.parse(written.stdout) as { error: { message: string }; "***": [string, { at: string }] };
      expect(parsed.error.message).toBe('[s3] list: request failed: Headers.set: "***" is an invalid header value.');
      expect(parsed["***"]).toEqual(["***", { at: "1970-01-01T00:00:00.000Z", nested: "x***y" }]);
    }
    log.record({
      kind: "review",
      scenario: "--json error output with secrets JSON escapes (newline, quote, backslash, control, non-ASCII, lone surrogate)",
      expected: "neither the secret nor its JSON-escaped form on stdout or stderr",
      observed: `${TOKENS.length} secrets: masked in values, keys, arrays and toJSON output`,
      faults: TOKENS.length,
      bytesLost: 0,
    });
  });

  it("masks the forms a secret takes inside messages from below", () => {
    const token = 'QXZwrapped+pasted/token="abc"&more\nsecond-line-of-the-tokenZXQ';
    const shapes = {
      "JSON-escaped": JSON.stringify({ token }),
      "URL-encoded": `http://s3.test/b?X-Amz-Security-Token=${encodeURIComponent(token)}`,
      "form-encoded": new URLSearchParams({ token }).toString(),
      "XML-escaped": `<Error><Message>${escapeXml(token)}</Message></Error>`,
      trimmed: `header ${token.trim()}`,
      "one line of it": `value: ${token.split("\n")[1]}`,
    };
    for (const [shape, text] of Object.entries(shapes)) {
      const { out, written } = capture([token]);
      out.line(text);
      out.json({ text });
      const lines = token.split("\n");
      const found = [token, ...lines, JSON.stringify(token).slice(1, -1), encodeURIComponent(token), escapeXml(token)].some(
        (form) => written.stdout.includes(form),
      );
      expect(found, shape).toBe(false);
      expect(written.stdout.includes("***"), shape).toBe(true);
    }
  });

  it("for any secret, neither it nor its JSON-escaped form survives text or JSON output", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", minLength: 1 }).filter((s) => !s.includes("*")),
        fc.array(fc.string({ unit: "binary" }).filter((s) => !s.includes("*"))),
        (body, parts) => {
          const secret = `QXZ${body}ZXQ`;
          const { out, written } = capture([secret]);
          const message = parts.join(secret) + secret;
          out.json({ message, list: [message] });
          out.line(message);
          expect(leaks(written.stdout, secret)).toBe(false);
        },
      ),
    );
  });

  it("leaves output without secrets as it was", () => {
    const { out, written } = capture([undefined, "", "abc"]);
    const value = { ok: true, n: 1, none: null, list: ["abc is short"], at: new Date(0) };
    out.json(value);
    expect(written.stdout).toBe(`${JSON.stringify(value, null, 2)}\n`);
  });
});
