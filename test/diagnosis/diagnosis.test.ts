// Diagnosis on emulated defects: each defect's weights (test-side emulator) go through the identity
// probe (judgeOutput with the output as its own probe, the path `quantscope check --input identity`
// takes) and must be named by class; output-space evidence (NaN, constant factor, alternative
// roundings) likewise. Also: a correct int8 kernel (emulated: the declared reference summed in float32)
// on outlier activations passes, and the same kernel with an activation scale of amax/128 fails.
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMES, KERNEL_BAR, type ArithmeticScheme } from '../../src-main/engine/arithmetic/schemes';
import { prepareActivations } from '../../src-main/engine/arithmetic/activations';
import { splitRow } from '../../src-main/engine/arithmetic/split';
import { compareOutputs, judge } from '../../src-main/engine/compare';
import { quantize } from '../../src-main/engine/formats';
import { GgmlType, rowBytes } from '../../src-main/engine/ggml-types';
import { referenceMatmulSync } from '../../src-main/engine/reference';
import { Rng } from '../../src-main/engine/rng';
import { withOutliers } from '../../src-main/engine/run/activations';
import { judgeOutput } from '../../src-main/engine/run/verdict';
import { shutdownPool } from '../../src-main/engine/workers/pool';
import { identityReference } from '../../src-main/engine/diagnosis/probe';
import { diagnoseOutputs, diagnoseProbe } from '../../src-main/engine/diagnosis';
import { packScaleMinK4, scaleMinK4 } from '../../src-main/engine/formats/kcommon';
import { defectiveWeights, identityOutput, type Defect } from './emulate';

afterAll(() => shutdownPool());

const rng = new Rng(99);
function model(type: number, n: number, k: number): Uint8Array {
  return quantize(type, rng.normalF32(n * k), n, k);
}

async function probeVerdict(
  type: number,
  n: number,
  k: number,
  data: Uint8Array,
  got: Float32Array,
  scheme: ArithmeticScheme = SCHEMES.f32,
) {
  const elems = Array.from({ length: k }, (_, i) => i);
  return judgeOutput({
    type,
    n,
    k,
    data,
    x: new Float32Array(0),
    m: k,
    got,
    scheme,
    selfProbe: elems,
  });
}

describe('identity probe: every weight defect is named', () => {
  const cases: [Defect, number, string][] = [
    ['nibble-order', GgmlType.Q4_0, 'nibble-order'],
    ['nibble-order', GgmlType.Q4_K, 'nibble-order'],
    ['offset-missing', GgmlType.Q4_0, 'offset-missing'],
    ['offset-missing', GgmlType.Q6_K, 'offset-missing'],
    ['unsigned', GgmlType.Q8_0, 'unsigned'],
    ['min-sign', GgmlType.Q4_K, 'min-sign'],
    ['min-sign', GgmlType.Q5_K, 'min-sign'],
    ['high-bits', GgmlType.Q5_K, 'high-bits'],
    ['high-bits', GgmlType.Q6_K, 'high-bits'],
    ['scale-index', GgmlType.Q4_K, 'scale-index'],
    ['scale-index', GgmlType.Q6_K, 'scale-index'],
    ['layout', GgmlType.Q8_0, 'layout'],
    ['tail-dropped', GgmlType.Q4_K, 'tail-dropped'],
    ['constant-factor', GgmlType.Q4_0, 'constant-factor'],
    ['precision', GgmlType.Q8_0, 'precision'],
  ];
  for (const [defect, type, cls] of cases) {
    it(`${defect} in type ${type} -> ${cls}`, async () => {
      const n = 24;
      const k = 512;
      const data = model(type, n, k);
      const got = identityOutput(defectiveWeights(type, data, n, k, defect), n, k);
      const v = await probeVerdict(type, n, k, data, got);
      expect(v.status).toBe('fail');
      expect(v.diagnosis?.class, v.diagnosis?.sentence).toBe(cls);
      expect(v.diagnosis?.evidence.join(' ')).toMatch(/row \d+, block \d+/);
    });
  }
  it('the right weights pass with no diagnosis', async () => {
    for (const type of [GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K]) {
      const n = 8;
      const k = 256;
      const data = model(type, n, k);
      const got = identityOutput(
        defectiveWeights(type, data, n, k, 'constant-factor').map((v) => v * 2),
        n,
        k,
      );
      const v = await probeVerdict(type, n, k, data, got);
      expect(v.status).toBe('pass');
      expect(v.diagnosis).toBeNull();
    }
  });
  it('NaN left in the output -> unwritten', async () => {
    const n = 8;
    const k = 256;
    const data = model(GgmlType.Q4_K, n, k);
    const got = identityOutput(defectiveWeights(GgmlType.Q4_K, data, n, k, 'constant-factor'), n, k).map(
      (v) => v * 2,
    );
    for (let e = 0; e < k; e++) got[e * n + 7] = NaN;
    const v = await probeVerdict(GgmlType.Q4_K, n, k, data, got);
    expect(v.diagnosis?.class).toBe('unwritten');
  });
});

describe('identity probe: misread fields in every quantized format, on float32 and int8 paths', () => {
  // Each case edits the weight bytes the way a kernel with that defect reads them (only the sub-blocks
  // the defect touches); the kernel's probe output is then the declared arithmetic on those bytes.
  const halves = (d: Uint8Array, o: number, len: number) => {
    for (let i = o; i < o + len; i++) d[i] = ((d[i] & 15) << 4) | (d[i] >> 4);
  };
  const cases: {
    name: string;
    type: number;
    bytes: number;
    edit: (d: Uint8Array, o: number) => void;
    cls: string;
  }[] = [
    // Q5_K: the fifth bit lost in the first sub-block of each pair only (bits 0, 2, 4, 6 of qh)
    {
      name: 'Q5_K high bit lost in half the sub-blocks',
      type: GgmlType.Q5_K,
      bytes: 176,
      edit: (d, o) => {
        for (let l = 0; l < 32; l++) d[o + 16 + l] &= 0xaa;
      },
      cls: 'high-bits',
    },
    // Q4_K: the odd sub-blocks take the even sub-block's scale, their own min
    {
      name: 'Q4_K odd sub-blocks use the even scale',
      type: GgmlType.Q4_K,
      bytes: 144,
      edit: (d, o) => {
        const ls: number[] = [];
        const lm: number[] = [];
        for (let j = 0; j < 8; j++) {
          ls.push(scaleMinK4(j & ~1, d, o + 4) & 63);
          lm.push(scaleMinK4(j, d, o + 4) >> 8);
        }
        packScaleMinK4(ls, lm, d, o + 4);
      },
      cls: 'scale-index',
    },
    {
      name: 'Q4_1 minimum dropped',
      type: GgmlType.Q4_1,
      bytes: 20,
      edit: (d, o) => d.fill(0, o + 2, o + 4),
      cls: 'offset-missing',
    },
    {
      name: 'Q4_1 nibbles swapped',
      type: GgmlType.Q4_1,
      bytes: 20,
      edit: (d, o) => halves(d, o + 4, 16),
      cls: 'nibble-order',
    },
    {
      name: 'Q5_0 fifth bits lost',
      type: GgmlType.Q5_0,
      bytes: 22,
      edit: (d, o) => d.fill(0, o + 2, o + 6),
      cls: 'high-bits',
    },
    {
      name: 'Q5_1 minimum negated',
      type: GgmlType.Q5_1,
      bytes: 24,
      edit: (d, o) => (d[o + 3] ^= 0x80),
      cls: 'min-sign',
    },
    {
      name: 'Q5_1 minimum dropped',
      type: GgmlType.Q5_1,
      bytes: 24,
      edit: (d, o) => d.fill(0, o + 2, o + 4),
      cls: 'offset-missing',
    },
    {
      name: 'Q2_K minimum negated',
      type: GgmlType.Q2_K,
      bytes: 84,
      edit: (d, o) => (d[o + 83] ^= 0x80),
      cls: 'min-sign',
    },
    {
      name: 'Q2_K neighbouring sub-block scales',
      type: GgmlType.Q2_K,
      bytes: 84,
      edit: (d, o) => {
        for (let s = 0; s < 16; s += 2) [d[o + s], d[o + s + 1]] = [d[o + s + 1], d[o + s]];
      },
      cls: 'scale-index',
    },
    {
      name: 'Q3_K hmask lost',
      type: GgmlType.Q3_K,
      bytes: 110,
      edit: (d, o) => d.fill(0, o, o + 32),
      cls: 'high-bits',
    },
    {
      name: 'IQ4_NL nibbles swapped',
      type: GgmlType.IQ4_NL,
      bytes: 18,
      edit: (d, o) => halves(d, o + 2, 16),
      cls: 'nibble-order',
    },
    {
      name: 'IQ4_XS neighbouring sub-block scales',
      type: GgmlType.IQ4_XS,
      bytes: 136,
      edit: (d, o) => {
        halves(d, o + 4, 4);
        const sh = d[o + 2] | (d[o + 3] << 8);
        const sw = ((sh & 0x3333) << 2) | ((sh >> 2) & 0x3333);
        d[o + 2] = sw & 255;
        d[o + 3] = sw >> 8;
      },
      cls: 'scale-index',
    },
  ];
  for (const c of cases)
    for (const scheme of [SCHEMES.f32, SCHEMES.q8_1]) {
      it(`${c.name} (${scheme.id}) -> ${c.cls}`, async () => {
        const n = 16;
        const k = 512;
        const data = model(c.type, n, k);
        const bad = data.slice();
        for (let o = 0; o < bad.length; o += c.bytes) c.edit(bad, o);
        const elems = Array.from({ length: k }, (_, i) => i);
        const got = Float32Array.from(identityReference(scheme, c.type, bad, n, k, elems));
        const v = await probeVerdict(c.type, n, k, data, got, scheme);
        expect(v.status).toBe('fail');
        expect(v.diagnosis?.class, v.diagnosis?.sentence).toBe(c.cls);
      });
    }
  it('every quantized format passes its own probe with no diagnosis', async () => {
    for (const type of [
      GgmlType.Q4_1,
      GgmlType.Q5_0,
      GgmlType.Q5_1,
      GgmlType.Q2_K,
      GgmlType.Q3_K,
      GgmlType.IQ4_NL,
      GgmlType.IQ4_XS,
    ]) {
      const n = 8;
      const k = 256;
      const data = model(type, n, k);
      const elems = Array.from({ length: k }, (_, i) => i);
      const got = Float32Array.from(identityReference(SCHEMES.q8_1, type, data, n, k, elems));
      const v = await probeVerdict(type, n, k, data, got, SCHEMES.q8_1);
      expect(v.status, `type ${type}`).toBe('pass');
    }
  });
});

/** A correct kernel of `scheme`, emulated: the declared products summed in float32, 32 at a time. */
function emulatedKernel(
  scheme: ArithmeticScheme,
  type: number,
  data: Uint8Array,
  n: number,
  k: number,
  x: Float32Array,
  m: number,
) {
  const p = prepareActivations(scheme, x, m, k);
  const form = scheme.offsets[type]!;
  const a = new Float64Array(k);
  const c = new Float64Array(k / 32);
  const y = new Float32Array(m * n);
  const fr = Math.fround;
  for (let j = 0; j < n; j++) {
    splitRow(type, form, data, j * rowBytes(type, k), k, a, 0, c, 0);
    for (let r = 0; r < m; r++) {
      let acc = 0;
      for (let g = 0; g < k / 32; g++) {
        let part = 0;
        for (let i = g * 32; i < g * 32 + 32; i++) part += a[i] * p.xa![r * k + i];
        acc = fr(acc + fr(part) - fr(c[g] * p.sums![r * (k / 32) + g]));
      }
      y[r * n + j] = acc;
    }
  }
  return y;
}

describe('outlier activations and the int8 bar', () => {
  const type = GgmlType.Q4_K;
  const n = 64;
  const k = 1024;
  const m = 4;
  const data = model(type, n, k);
  for (const factor of [20, 100]) {
    it(`outliers x${factor}: a correct qs8 kernel passes; amax/128 fails and is diagnosed`, async () => {
      const x = withOutliers(rng.normalF32(m * k), k, 1, factor);
      const good = emulatedKernel(SCHEMES.qs8, type, data, n, k, x, m);
      const v = await judgeOutput({ type, n, k, data, x, m, got: good, scheme: SCHEMES.qs8 });
      expect(v.status).toBe('pass');
      expect(v.metrics.nmse).toBeLessThan(KERNEL_BAR / 100);
      // the old way: against the exact float32 reference with llama.cpp's loose bar, the arithmetic
      // error alone is what decides
      expect(v.arithmeticNmse).toBeGreaterThan(1e-5);
      const bad = emulatedKernel(
        { ...SCHEMES.qs8, activations: { ...SCHEMES.qs8.activations, scaleDivisor: 128 } },
        type,
        data,
        n,
        k,
        x,
        m,
      );
      const b = await judgeOutput({ type, n, k, data, x, m, got: bad, scheme: SCHEMES.qs8 });
      expect(b.status).toBe('fail');
      expect(b.diagnosis?.class).toBe('rounding');
      expect(b.diagnosis?.sentence).toMatch(/amax\/128/);
    });
  }
  it('Q8_0, gaussian activations: amax/128 passes the exact reference at the loose 5e-4 bar, fails the declared one', async () => {
    const t8 = GgmlType.Q8_0;
    const d8 = model(t8, n, k);
    const x = rng.normalF32(m * k);
    const bad = emulatedKernel(
      { ...SCHEMES.qs8, activations: { ...SCHEMES.qs8.activations, scaleDivisor: 128 } },
      t8,
      d8,
      n,
      k,
      x,
      m,
    );
    expect(judge(compareOutputs(referenceMatmulSync(t8, d8, n, k, x, m), bad, m, n), 5e-4)).toBe('pass');
    const b = await judgeOutput({ type: t8, n, k, data: d8, x, m, got: bad, scheme: SCHEMES.qs8 });
    expect(b.status).toBe('fail');
    expect(b.metrics.nmse).toBeGreaterThan(100 * KERNEL_BAR);
  });
  it('round toward zero in the quantizer and a truncating bfloat16 conversion are caught and named', async () => {
    const x = rng.normalF32(m * k);
    const trunc = emulatedKernel(
      { ...SCHEMES.qs8, activations: { ...SCHEMES.qs8.activations, rounding: 'toward-zero' } },
      type,
      data,
      n,
      k,
      x,
      m,
    );
    const t = await judgeOutput({ type, n, k, data, x, m, got: trunc, scheme: SCHEMES.qs8 });
    expect(t.status).toBe('fail');
    expect(t.diagnosis?.sentence).toMatch(/truncated toward zero/);
    const bfTrunc: ArithmeticScheme = {
      ...SCHEMES.bf16,
      activations: { kind: 'float', format: 'bf16', rounding: 'toward-zero' },
      weights: { kind: 'float', format: 'bf16', rounding: 'toward-zero' },
    };
    const got = Float32Array.from(referenceMatmulSync(type, data, n, k, x, m, bfTrunc));
    const b = await judgeOutput({ type, n, k, data, x, m, got, scheme: SCHEMES.bf16 });
    expect(b.status).toBe('fail');
    expect(b.diagnosis?.class).toBe('rounding');
    expect(b.diagnosis?.sentence).toMatch(/truncating bf16/);
  });
  it('output evidence: a constant factor and unwritten outputs', async () => {
    const x = rng.normalF32(m * k);
    const ref = referenceMatmulSync(type, data, n, k, x, m);
    const scaled = Float32Array.from(ref, (v) => v * 0.75);
    const c = await judgeOutput({
      type,
      n,
      k,
      data,
      x,
      m,
      got: scaled,
      scheme: SCHEMES.f32,
      maxAlternativeWork: 0,
    });
    expect(c.diagnosis?.class).toBe('constant-factor');
    const holes = Float32Array.from(ref);
    holes.fill(NaN, n - 5, n);
    const u = await judgeOutput({ type, n, k, data, x, m, got: holes, scheme: SCHEMES.f32 });
    expect(u.diagnosis?.class).toBe('unwritten');
  });
  it('output evidence: infinite outputs, and NaN in an output made elsewhere, are non-finite', () => {
    const x = rng.normalF32(m * k);
    const ref = referenceMatmulSync(type, data, n, k, x, m);
    const inf = Float32Array.from(ref);
    inf[n + 3] = -Infinity;
    const a = diagnoseOutputs({ ref, got: inf, m, n });
    expect(a.class).toBe('non-finite');
    expect(a.sentence).toBe(`1 of ${m * n} outputs are infinite where the reference is finite: an overflow`);
    expect(a.evidence).toContain('first at activation row 1, output column 3');
    const nan = Float32Array.from(ref);
    nan[2] = NaN;
    expect(diagnoseOutputs({ ref, got: nan, m, n }).class).toBe('unwritten');
    const ext = diagnoseOutputs({ ref, got: nan, m, n, external: true });
    expect(ext.class).toBe('non-finite');
    expect(ext.sentence).toBe(`1 of ${m * n} outputs are NaN where the reference is finite`);
  });
  it('output evidence: float32 rounding alone, failed only by a threshold below the kernel bar, says so', () => {
    const x = rng.normalF32(m * k);
    const ref = referenceMatmulSync(type, data, n, k, x, m);
    // an alternative rounding as close to the output as the declared reference (the int8 schemes' other
    // tie rule) is no explanation for an output within the bar
    const d = diagnoseOutputs({
      ref,
      got: Float32Array.from(ref),
      m,
      n,
      alternatives: [{ name: 'activation ties rounded to even', cls: 'rounding', ref: ref.slice() }],
    });
    expect(d.class).toBe('unknown');
    expect(d.sentence).toMatch(/^every output row and column is within the kernel bar \(NMSE 1e-8\)/);
    expect(d.evidence).toContain(
      `error above the bar in 0 of ${m} activation rows and 0 of ${n} output columns`,
    );
  });
});

// Weight rows with a non-finite block scale are left out of the verdict (their outputs are not
// compared), so the diagnosis takes no evidence from them: neither wrong nor right weights in the
// probe, nor outputs in the output-space evidence.
describe('rows left out of the comparison are no evidence', () => {
  /** Q4_0 weights with every block scale of the given rows set to `half` (+Inf 0x7c00, NaN 0x7e00). */
  function poisoned(n: number, k: number, rows: number[], half: number): Uint8Array {
    const data = model(GgmlType.Q4_0, n, k);
    const rb = rowBytes(GgmlType.Q4_0, k);
    for (const j of rows)
      for (let o = j * rb; o < (j + 1) * rb; o += 18) {
        data[o] = half & 0xff;
        data[o + 1] = half >> 8;
      }
    return data;
  }

  it('a probe with swapped nibbles and two rows of infinite scales: nibble-order, from the compared rows', async () => {
    const n = 24;
    const k = 512;
    const data = poisoned(n, k, [3, 10], 0x7c00);
    // the kernel decodes every row with the defect, the left-out ones into infinities and NaN
    const got = identityOutput(defectiveWeights(GgmlType.Q4_0, data, n, k, 'nibble-order'), n, k);
    const v = await probeVerdict(GgmlType.Q4_0, n, k, data, got);
    expect(v.status).toBe('fail');
    expect([...v.skipCols!.keys()].filter((j) => v.skipCols![j])).toEqual([3, 10]);
    expect(v.probe?.skipRows).toBe(v.skipCols);
    expect(v.diagnosis?.class, v.diagnosis?.sentence).toBe('nibble-order');
    const ev = v.diagnosis!.evidence;
    expect(ev[0]).toMatch(
      new RegExp(`^\\d+ of ${k * (n - 2)} probed weights wrong \\(${k} elements of each of ${n - 2} rows\\)`),
    );
    expect(ev).toContain('2 weight rows not compared (non-finite block scales; their outputs were left out)');
    // the same probe with those rows taken as evidence: their infinities (equal on both sides) read as
    // wrong weights no defect explains
    const asEvidence = diagnoseProbe({ ...v.probe!, skipRows: null });
    expect(asEvidence?.class).not.toBe('nibble-order');
  });

  it('a probe wrong only in the rows left out is clean; the same rows compared are not', () => {
    const n = 8;
    const k = 64;
    const E = k;
    const ref = new Float64Array(E * n).map((_, i) => (i % 7) - 3);
    const got = Float32Array.from(ref);
    // weight row 5 comes out doubled
    for (let r = 0; r < E; r++) got[r * n + 5] *= 2;
    const elems = Array.from({ length: E }, (_, i) => i);
    const probe = {
      type: GgmlType.F32,
      n,
      k,
      data: new Uint8Array(n * k * 4),
      elems,
      got,
      ref,
    };
    const skipRows = new Uint8Array(n);
    skipRows[5] = 1;
    expect(diagnoseProbe({ ...probe, skipRows })).toBeNull();
    expect(diagnoseProbe(probe)?.evidence[0]).toMatch(/in 1 rows$/);
  });

  it('output evidence: a NaN in a column left out is not an unwritten output, and the fit ignores the column', () => {
    const [n, k, m] = [64, 1024, 4];
    const data = model(GgmlType.Q4_K, n, k);
    const x = rng.normalF32(m * k);
    const ref = referenceMatmulSync(GgmlType.Q4_K, data, n, k, x, m);
    const got = Float32Array.from(ref, (v) => v * 2);
    const skipCols = new Uint8Array(n);
    skipCols[4] = 1;
    // the column left out: NaN in one row, the right value in the others (no factor of 2)
    for (let r = 0; r < m; r++) got[r * n + 4] = r === 1 ? NaN : ref[r * n + 4];
    expect(diagnoseOutputs({ ref, got, m, n }).class).toBe('unwritten');
    const d = diagnoseOutputs({ ref, got, m, n, skipCols });
    expect(d.class, d.sentence).toBe('constant-factor');
    expect(d.sentence).toMatch(/^every output is 2 times the right value/);
    expect(d.evidence).toContain(
      '1 output column not compared (non-finite block scales in their weight rows)',
    );
    expect(d.evidence).toContain(
      `error above the bar in ${m} of ${m} activation rows and ${n - 1} of ${n - 1} compared output columns`,
    );
  });
});
