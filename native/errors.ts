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
    /**
     * The fault left the device's context unusable (a kernel that touched memory it does not own, an
     * illegal instruction, a launch failure): every later call on it fails with the same error until
     * the context is reset. The GPU session resets it and goes on with the next tensor.
     */
    readonly contextLost = false,
  ) {
    super(`${api} failed: ${detail} (${code})`);
    this.name = 'GpuError';
  }
}

/**
 * The codes after which CUDA's context (and HIP's device) stays unusable until reset. Both runtimes
 * number them alike: illegal address 700, launch timeout 702, hardware stack error 714, illegal
 * instruction 715, misaligned address 716, invalid address space 717, invalid program counter 718,
 * launch failure 719.
 */
export const CONTEXT_LOST_CODES: ReadonlySet<number> = new Set([700, 702, 714, 715, 716, 717, 718, 719]);

/** Raised while probing: the backend cannot be used here, with the reason to show the user. */
export class GpuUnavailableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'GpuUnavailableError';
  }
}
