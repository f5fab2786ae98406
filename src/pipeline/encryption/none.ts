/** Not encrypted: the data key has no `.age` and the metadata no `encryption` field. */
import type { Stage } from "../stage.js";

export const none: Stage = {
  name: "none",
  keySuffix: "",
  meta: {},
};
