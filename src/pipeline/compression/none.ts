/** Stored as is: the data key ends in `.db` and the object is the original bytes. */
import type { Stage } from "../stage.js";

export const none: Stage = {
  name: "none",
  keySuffix: "",
  meta: { compressed: false, compression: "none" },
};
