import { describe, expect, it } from 'vitest';
import { parseDefines } from '../../src-main/engine/backends/gpu/config';

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
