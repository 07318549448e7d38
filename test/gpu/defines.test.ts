import { describe, expect, it } from 'vitest';
import { kernelSettings, parseDefines, readSessionConfig } from '../../src-main/engine/backends/gpu/config';

// QS_KERNEL_DEFINES: the defines every kernel module is compiled with (tuning switches, diagnostics).
describe('QS_KERNEL_DEFINES', () => {
  it('reads NAME=INTEGER pairs, negative values and spaces around the commas', () => {
    expect(parseDefines('QS_Q8_R=4, QS_Q8_W=2 ,QS_X=-1')).toEqual({ QS_Q8_R: 4, QS_Q8_W: 2, QS_X: -1 });
  });

  it('takes a bare name as 1, as the compiler does with -DNAME', () => {
    expect(parseDefines('QS_Q6_P8')).toEqual({ QS_Q6_P8: 1 });
    expect(parseDefines('QS_Q6_P8,QS_LDHINT=0')).toEqual({ QS_Q6_P8: 1, QS_LDHINT: 0 });
  });

  it('ignores empty entries', () => {
    expect(parseDefines('')).toEqual({});
    expect(parseDefines('QS_A=1,,')).toEqual({ QS_A: 1 });
  });

  it.each([['FOO=1'], ['qs_a=1'], ['QS_A=1.5'], ['QS_A='], ['QS_A=x'], ['-DQS_A']])(
    'refuses %s in one line that names it',
    (bad) => {
      expect(() => parseDefines(bad)).toThrow(
        new RegExp(
          `^QS_KERNEL_DEFINES: expected NAME or NAME=INTEGER with NAME starting QS_, got '${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'$`,
        ),
      );
    },
  );
});

describe('kernel settings', () => {
  const settings = (
    env: Record<string, string>,
    tuning?: Parameters<typeof readSessionConfig>[1]['tuning'],
  ) =>
    kernelSettings(
      readSessionConfig('cuda', { cacheDir: null, prebuiltDir: null, ...(tuning ? { tuning } : {}) }, env),
    );

  it('are none for the defaults', () => {
    expect(settings({})).toEqual([]);
  });

  it('name every define, the tuning, the int8 tile, the launch chain and the AMD int8 switch that differ', () => {
    expect(
      settings({
        QS_KERNEL_DEFINES: 'QS_LDHINT=0,QS_Q6_P8',
        QS_GPU_TUNING: '4,4,2,4,2,1',
        QS_MMA_I8_TILE: '16x256',
        QS_PDL_CHAIN: '0',
        QS_HIP_MFMA_I8: '1',
      }),
    ).toEqual([
      'QS_LDHINT=0',
      'QS_Q6_P8=1',
      'QS_GPU_TUNING=4,4,2,4,2,1',
      'QS_MMA_I8_TILE=16x256',
      'QS_PDL_CHAIN=0',
      'QS_HIP_MFMA_I8=1',
    ]);
  });

  it('name a tuning given by bench --tune as the same setting', () => {
    expect(settings({}, { smallRows: 8 })).toEqual(['QS_GPU_TUNING=8,4,2,4,2,1']);
  });
});
