/**
 * Kernel argument lists in native memory, for cuLaunchKernel(Ex) and hipModuleLaunchKernel: the
 * `void *kernelParams[]` table followed by the values it points at. Marshalling only.
 * A list is encoded once and reused by every launch that passes it: koffi marshals a JavaScript array
 * of typed arrays for a `void **` parameter in ~1.5 us per call, a native table in ~0.2 us (measured
 * with a stub library), and the benchmark relaunches the same lists thousands of times.
 */
import koffi from 'koffi';

export interface NativeParams {
  /** koffi pointer to the table; pass it where the declaration says `void **params` */
  readonly table: unknown;
  /** frees the native memory (idempotent); the driver copies the values at launch, so any time after */
  free(): void;
}

/** The largest by-value parameter: a CUDA tensor map (CUtensorMap, 128 bytes). */
const MAX_PARAM_BYTES = 128;

/**
 * values: each argument's bytes as the kernel's parameter holds them, in order: at most 8 (one 8-byte
 * slot), or a by-value struct of at most 128 bytes (a 64-byte-aligned slot, as a tensor map wants).
 */
export function encodeKernelParams(values: ArrayBufferView[]): NativeParams {
  const n = values.length;
  // each value's offset from the 64-byte-aligned start of the value area
  const rel: number[] = [];
  let size = 0;
  values.forEach((v, i) => {
    const len = v.byteLength;
    if (len > MAX_PARAM_BYTES)
      throw new Error(`kernel argument ${i}: ${len} bytes (at most ${MAX_PARAM_BYTES})`);
    if (len > 8) size = Math.ceil(size / 64) * 64;
    rel.push(size);
    size += Math.max(8, Math.ceil(len / 8) * 8);
  });
  // the table of n pointers, then the value area at the first 64-byte-aligned address after it
  const mem = koffi.alloc('uint8_t', 8 * n + 64 + Math.max(8, size));
  const addr = BigInt(koffi.address(mem) as bigint | number);
  const area = 8 * n + Number((64n - ((addr + BigInt(8 * n)) % 64n)) % 64n);
  values.forEach((v, i) => {
    koffi.encode(mem, 8 * i, 'uint64_t', addr + BigInt(area + rel[i]));
    const bytes = Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    while (bytes.length === 0 || bytes.length % 8 !== 0) bytes.push(0);
    koffi.encode(mem, area + rel[i], koffi.array('uint8_t', bytes.length), bytes);
  });
  let freed = false;
  return {
    table: mem,
    free: () => {
      if (freed) return;
      freed = true;
      koffi.free(mem);
    },
  };
}

/**
 * Native parameter tables by argument list (the list's identity), freed when the list is garbage
 * collected or when the cache is cleared (the runtime's dispose()).
 */
export class NativeParamCache<K extends object> {
  private byList = new WeakMap<K, NativeParams>();
  private live = new Set<NativeParams>();
  private registry = new FinalizationRegistry<NativeParams>((p) => {
    this.live.delete(p);
    p.free();
  });

  get(list: K, encode: (list: K) => ArrayBufferView[]): NativeParams {
    let p = this.byList.get(list);
    if (!p) {
      p = encodeKernelParams(encode(list));
      this.byList.set(list, p);
      this.live.add(p);
      this.registry.register(list, p, p);
    }
    return p;
  }

  clear(): void {
    for (const p of this.live) {
      this.registry.unregister(p);
      p.free();
    }
    this.live.clear();
    this.byList = new WeakMap();
  }
}
