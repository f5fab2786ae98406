import { InvalidKeyError } from "../errors.js";

/** The one rule every storage key obeys before any adapter sees it: a non-empty string. */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key === "") throw new InvalidKeyError(String(key), "key must be a non-empty string");
}
