/**
 * `createBackupper` holds the state and the scheduler and nothing else: the work is in the
 * operations (src/operations/). Its body staying short is how that stays true; rerun with
 * `npx vitest run test/structure/backupper-size.test.ts` to see the count.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const FILE = resolve(dirname(fileURLToPath(import.meta.url)), "../../src/backupper.ts");
const MAX_BODY_LINES = 80;

/** Lines strictly between the braces of the body of function `name` in `file`. */
function bodyLines(file: string, name: string): number {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const fn = source.statements.find((s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && s.name?.text === name);
  if (!fn?.body) throw new Error(`no function ${name} in ${file}`);
  const line = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
  return line(fn.body.getEnd()) - line(fn.body.getStart(source)) - 1;
}

describe("createBackupper", () => {
  it(`has a body of at most ${MAX_BODY_LINES} lines`, () => {
    const lines = bodyLines(FILE, "createBackupper");
    console.log(`createBackupper: ${lines} body lines (limit ${MAX_BODY_LINES})`);
    expect(lines).toBeLessThanOrEqual(MAX_BODY_LINES);
  });
});
