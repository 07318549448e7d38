/**
 * Kernel argument lists in native memory, for cuLaunchKernel(Ex) and hipModuleLaunchKernel: the
 * `void *kernelParams[]` table followed by one 8-byte slot per value it points at. Marshalling only.
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

/** values: each argument's bytes (at most 8, as the kernel's parameter holds them), in order */
export function encodeKernelParams(values: ArrayBufferView[]): NativeParams {
  const n = values.length;
  const mem = koffi.alloc('uint8_t', Math.max(16, 16 * n));
  const base = BigInt(koffi.address(mem) as bigint | number);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v.byteLength > 8) {
      koffi.free(mem);
      throw new Error(`kernel argument ${i}: ${v.byteLength} bytes (at most 8)`);
    }
    koffi.encode(mem, 8 * i, 'uint64_t', base + BigInt(8 * n + 8 * i));
    const bytes = Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    while (bytes.length < 8) bytes.push(0);
    koffi.encode(mem, 8 * n + 8 * i, koffi.array('uint8_t', 8), bytes);
  }
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
