// The HIP backend's run-time compile path (hiprtc) builds the kernel sources the backend loads, for
// gfx90a (CDNA, wave64) and gfx1030 (RDNA, wave32), exporting the entry points it launches. Needs
// the HIP runtime library (hiprtc), not a GPU.
import { describe, expect, it } from 'vitest';
import { loadHip } from '../../native/hip';
import { hiprtcCompile } from '../../src-main/engine/backends/gpu/hip-runtime';
import { KERNEL_HEADERS, kernelSourceFor } from '../../src-main/engine/backends/gpu/kernel-sources';
import { SUPPORTED_TYPES } from '../../src-main/engine/ggml-types';
import { FORMATS, formatSpec, gpuHasPath } from '../../src-main/engine/formats';

let hipPresent = false;
try {
  loadHip();
  hipPresent = true;
} catch (e) {
  console.log(`[hip] hiprtc kernel tests skipped: ${(e as Error).message}`);
}

describe('hiprtc builds every kernel source the HIP backend loads', () => {
  // the kernels' built-in defaults (what prebuilt code objects use); the backend's own defines are
  // exercised by runtime-fake.test.ts, which runs q4_0 through the real backend
  const defines = {};
  const entryPoints = [
    ...Array.from({ length: 8 }, (_, i) => `qs_small_m${i + 1}`),
    'qs_tiled_f32',
    'qs_dequant',
  ];
  const types = SUPPORTED_TYPES.map((t) => t.id).filter((id) => kernelSourceFor(id));
  // Each hiprtc compile takes seconds: by default one legacy, two k-quant and one float format
  // (the shared code paths); QS_TEST_FULL=1 compiles all of them.
  const FULL = process.env.QS_TEST_FULL === '1';
  const compiled = FULL
    ? types
    : types.filter((id) => ['q4_0', 'q4_k', 'q6_k', 'f16'].includes(kernelSourceFor(id)!.stem));

  it('has a kernel source for every type whose format spec has a GPU kernel', () => {
    expect(types.length).toBe(FORMATS.filter((f) => f.gpu).length);
    expect(types).toEqual(SUPPORTED_TYPES.map((t) => t.id).filter((id) => formatSpec(id)?.gpu));
  });

  for (const arch of ['gfx90a', 'gfx1030']) {
    it.skipIf(!hipPresent)(
      `for ${arch}, exporting the entry points the backend launches`,
      () => {
        expect(compiled.length).toBe(FULL ? types.length : 4);
        for (const t of compiled) {
          const src = kernelSourceFor(t)!;
          const code = hiprtcCompile(src.source, src.file, { arch, defines, headers: { ...KERNEL_HEADERS } });
          expect(Array.from(code.subarray(0, 4)), src.file).toEqual([0x7f, 0x45, 0x4c, 0x46]);
          const text = Buffer.from(code);
          for (const name of entryPoints)
            expect(text.includes(`${name}.kd`), `${src.file}: ${name}`).toBe(true);
          // formats with the int8 path also export the int8-activation kernels (fused-small-q8) and
          // their launch geometry
          if (gpuHasPath(t, 'int8'))
            for (const name of [
              'qs_x_q8',
              'qs_q8_geometry',
              ...Array.from({ length: 8 }, (_, i) => `qs_q8_m${i + 1}`),
            ])
              expect(text.includes(`${name}.kd`), `${src.file}: ${name}`).toBe(true);
          // the bfloat16 matrix-unit kernel where the target has MFMA (gfx90a), and only there
          expect(text.includes('qs_mfma_bf16.kd'), `${src.file}: qs_mfma_bf16 on ${arch}`).toBe(
            arch === 'gfx90a',
          );
          // the int8 MFMA kernel and its launch facts likewise, for the formats with int8 matrix-unit traits
          for (const name of ['qs_mfma_i8', 'qs_mfma_i8_geometry'])
            expect(text.includes(`${name}.kd`), `${src.file}: ${name} on ${arch}`).toBe(
              arch === 'gfx90a' && gpuHasPath(t, 'int8-mma'),
            );
          expect(text.includes('qs_x_bf16.kd'), `${src.file}: qs_x_bf16`).toBe(true);
        }
      },
      600_000,
    );
  }
});
