/**
 * Upper bounds on what a request may ask for: generous for real use, small enough that a hostile
 * payload cannot exhaust memory. The schemas enforce them; the UI and the CLI read the same numbers
 * to refuse early.
 */
export const LIMITS = {
  pathChars: 4096,
  idChars: 200,
  tensorNameChars: 256,
  tensorsPerRun: 20_000,
  batchSizesPerRun: 64,
  /** the largest batch size m */
  maxBatch: 1 << 16,
  gridCells: 4096,
  /** timed repeats per job */
  maxRepeats: 1000,
  bodyBytes: 4 << 20,
  /** entries one path completion returns */
  completions: 200,
  /** user code objects per run (one per format), formats per selftest */
  userKernels: 32,
  /** the largest code object a run reads */
  codeObjectBytes: 256 << 20,
  /**
   * tensors per listTensors page, and the most openModel sends inline: a larger model's summary
   * comes without its tensor list, which the faces fetch page by page (a 10^6-tensor model is
   * 20 responses of a few MB, not one of 144 MB)
   */
  tensorPage: 50_000,
} as const;
