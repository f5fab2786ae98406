import { InvalidKeyError } from "../errors.js";
import type { PutCondition } from "../types.js";

/** The one rule every storage key obeys before any adapter sees it: a non-empty string. */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key === "") throw new InvalidKeyError(String(key), "key must be a non-empty string");
}

/** Whether a conditional put may write, given the etag of the object there now (undefined: none). Shared by the adapters that check it themselves. */
export function conditionHolds(condition: PutCondition, current: string | undefined): boolean {
  return "ifNoneMatch" in condition ? current === undefined : current === condition.ifMatch;
}
