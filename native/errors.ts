/**
 * The errors the native declarations map failed calls to. They live here, with the declarations,
 * so native/ imports nothing from the engine; the engine's GPU code re-exports them.
 */

export class GpuError extends Error {
  constructor(
    /** the API that failed, e.g. 'cuMemAlloc_v2' */
    readonly api: string,
    /** the runtime's numeric code */
    readonly code: number,
    /** the runtime's error name/string */
    readonly detail: string,
  ) {
    super(`${api} failed: ${detail} (${code})`);
    this.name = 'GpuError';
  }
}

/** Raised while probing: the backend cannot be used here, with the reason to show the user. */
export class GpuUnavailableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'GpuUnavailableError';
  }
}
