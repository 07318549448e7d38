/** Device memory of one GPU session: free memory checked before every allocation, quiet frees. */
import type { DevicePtr, GpuRuntime } from './runtime';

/** Padding after the last weight row: the small kernel reads the 16-byte-aligned span of each chunk. */
export const WEIGHT_PAD = 256;
/** Memory kept free on the device beyond what a run needs (driver, modules, other apps). */
export const FREE_MARGIN = 64 * 1024 * 1024;
const MB = (b: number) => `${(b / (1 << 20)).toFixed(1)} MiB`;

export class DeviceMemory {
  constructor(
    private readonly rt: GpuRuntime,
    /** 'cuda:0', for messages */
    private readonly where: string,
  ) {}

  /** Allocates, or throws a one-line error naming `what` and the sizes when it would not fit. */
  alloc(bytes: number, what: string): DevicePtr {
    const { free } = this.rt.memGetInfo();
    if (bytes + FREE_MARGIN > free)
      throw new Error(`${what}: needs ${MB(bytes)} on ${this.where}, only ${MB(free)} free`);
    return this.rt.malloc(bytes);
  }

  freeQuiet(p: DevicePtr | null): void {
    if (p === null) return;
    try {
      this.rt.free(p);
    } catch {
      /* freeing after a device error can fail too; nothing more to do */
    }
  }
}
