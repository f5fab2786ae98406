/** Progress is reported at most once per this many original bytes, plus once at the end. */
const PROGRESS_STEP = 4 * 1024 * 1024;

/** Called with the original and stored bytes so far; `final` once, when the bytes are all through. */
export type Progress = (bytesRead: number, bytesStored: number, final?: boolean) => void;

/** A `Progress` that passes on only every `PROGRESS_STEP` original bytes, and the final count. */
export function progressReporter(emit: (bytesRead: number, bytesStored: number) => void): Progress {
  let nextAt = PROGRESS_STEP;
  return (read, stored, final = false) => {
    if (final || read >= nextAt) {
      nextAt = read + PROGRESS_STEP;
      emit(read, stored);
    }
  };
}
