// The CUlaunchConfig that cuLaunchKernelEx reads (programmatic dependent launch) is encoded once in
// native memory; its layout must match cuda.h on 64-bit Linux: 7 unsigned ints, the stream pointer at
// byte 32, the attribute pointer at 40, the count at 48 (56 bytes); each attribute is an int id, 4 bytes
// of padding and a 64-byte value union (72 bytes).
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION, encodeLaunchConfig } from '../../native/cuda';

describe('encodeLaunchConfig', () => {
  it('writes cuda.h CUlaunchConfig / CUlaunchAttribute bytes', () => {
    const { config, free } = encodeLaunchConfig({
      gridDimX: 512,
      gridDimY: 2,
      gridDimZ: 3,
      blockDimX: 64,
      blockDimY: 1,
      blockDimZ: 1,
      sharedMemBytes: 4096,
      hStream: null,
      attrs: [
        {
          id: CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION,
          pad: [0, 0, 0, 0],
          value: [1, ...new Array<number>(63).fill(0)],
        },
      ],
      numAttrs: 1,
    });
    try {
      expect(koffi.sizeof('QsCUlaunchConfig')).toBe(56);
      expect(koffi.sizeof('QsCUlaunchAttribute')).toBe(72);
      const cfg = new Uint8Array(koffi.decode(config, 'uint8_t', 56) as number[]);
      const dv = new DataView(cfg.buffer);
      const u32 = (o: number) => dv.getUint32(o, true);
      expect([0, 4, 8, 12, 16, 20, 24].map(u32)).toEqual([512, 2, 3, 64, 1, 1, 4096]);
      expect(dv.getBigUint64(32, true)).toBe(0n); // default stream
      expect(u32(48)).toBe(1);
      const attrAddr = dv.getBigUint64(40, true);
      expect(attrAddr).not.toBe(0n);
      const attr = koffi.decode(attrAddr, 'QsCUlaunchAttribute') as { id: number; value: number[] };
      expect(attr.id).toBe(6);
      expect(attr.value[0]).toBe(1);
      expect(attr.value.slice(1).every((v) => v === 0)).toBe(true);
    } finally {
      free();
      free(); // idempotent
    }
  });
});
