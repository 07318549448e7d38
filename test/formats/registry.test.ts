// The format registry is the one list of supported formats: every other table agrees with it.
import { describe, it, expect } from 'vitest';
import {
  FORMATS,
  codecFor,
  formatByName,
  formatSpec,
  gpuHasPath,
  scanScales,
} from '../../src-main/engine/formats';
import { SUPPORTED_TYPES, typeInfo } from '../../src-main/engine/ggml-types';
import { CPU_TYPES } from '../../src-main/engine/backends/cpu-kernels';
import { kernelSourceFor } from '../../src-main/engine/backends/gpu/kernel-sources';
import { selftestCases } from '../../src-main/engine/selftest';

describe('format registry', () => {
  it('ggml-types marks exactly the registered formats supported, with the same block sizes', () => {
    expect(SUPPORTED_TYPES.map((t) => t.id).sort((a, b) => a - b)).toEqual(
      FORMATS.map((f) => f.id).sort((a, b) => a - b),
    );
    for (const f of FORMATS) {
      const t = typeInfo(f.id)!;
      expect([t.name, t.blockElems, t.blockBytes, t.float]).toEqual([
        f.name,
        f.blockElems,
        f.blockBytes,
        f.float,
      ]);
      expect(codecFor(f.id)).toBe(f.codec);
      expect(formatSpec(f.id)).toBe(f);
      expect(formatByName(f.name.toLowerCase())).toBe(f);
    }
  });

  it('the cpu backend, the selftest and the GPU kernel sources follow the registry', () => {
    for (const f of FORMATS) {
      expect(CPU_TYPES.has(f.id)).toBe(true);
      expect(selftestCases(true).some((c) => c.type === f.id)).toBe(true);
      const src = kernelSourceFor(f.id);
      if (f.gpu) {
        expect(src?.stem).toBe(f.gpu.stem);
        expect(src?.source.length).toBeGreaterThan(100);
        expect(gpuHasPath(f.id, 'f32')).toBe(true);
        expect(gpuHasPath(f.id, 'int8')).toBe(!f.float);
      } else {
        expect(src).toBeUndefined();
        expect(gpuHasPath(f.id, 'f32')).toBe(false);
      }
    }
    expect(kernelSourceFor(15)).toBeUndefined(); // Q8_K: known, unsupported
  });

  it("scanScales checks each spec's scale offsets", () => {
    for (const f of FORMATS) {
      const block = new Uint8Array(2 * f.blockBytes);
      expect(scanScales(f.id, block)).toEqual({ badBlocks: 0, firstBadBlock: null });
      for (const o of f.scaleOffsets) {
        const b = block.slice();
        b[f.blockBytes + o + 1] = 0x7c; // +inf in the second block
        expect(scanScales(f.id, b)).toEqual({ badBlocks: 1, firstBadBlock: 1 });
      }
      if (f.float) expect(f.scaleOffsets).toEqual([]);
      else expect(f.scaleOffsets.length).toBeGreaterThan(0);
    }
  });
});
