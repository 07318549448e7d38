/**
 * The identity probe: activations that are rows of the k x k identity, so that a kernel's output is the
 * weights as it dequantizes them (output [r][j] = weight j, element elems[r]). Only the first and the
 * last 256 elements of a row are probed (the first blocks and the tail), which keeps the probe to at
 * most 512 activation rows for any k. Also here: the probe's declared reference (computed directly,
 * n * k work instead of a matmul) and the alternative-rounding references the output diagnosis tries.
 */
import type { ArithmeticScheme, Int8Activations } from '../arithmetic/schemes';
import { SCHEMES, isExact } from '../arithmetic/schemes';
import { quantizeInt8 } from '../arithmetic/activations';
import { floatRounder, roundTf32 } from '../arithmetic/rounding';
import { splitRow } from '../arithmetic/split';
import { codecFor } from '../formats';
import { rowBytes } from '../ggml-types';
import { memorySource, referenceMatmul } from '../reference';
import type { Alternative } from './index';

const PROBE_SPAN = 256;

/**
 * The probed elements of a row of length k: the first and the last 256 (all of them when k <= 512),
 * or fewer where `max` asks (a budget for very long rows), but never fewer than 32 at each end.
 */
export function probeElements(k: number, max = Infinity): number[] {
  const span = Math.max(32, Math.min(PROBE_SPAN, Math.floor(max / 2)));
  const s = new Set<number>();
  for (let i = 0; i < Math.min(k, span); i++) s.add(i);
  for (let i = Math.max(0, k - span); i < k; i++) s.add(i);
  return [...s].sort((a, b) => a - b);
}

/** Rows [r0, r0 + count) of the probe's activations: float32 [count][k], a single 1 per row. */
export function identityRows(elems: number[], k: number, r0 = 0, count = elems.length): Float32Array {
  const x = new Float32Array(count * k);
  for (let r = 0; r < count; r++) x[r * k + elems[r0 + r]] = 1;
  return x;
}

/** What the declared arithmetic makes of a one-hot activation: xa at the hot element, and its group's sum. */
function oneHot(rule: Int8Activations, pos: number): { xa: number; sum: number } {
  const x = new Float32Array(32);
  x[pos % 32] = 1;
  const p = quantizeInt8(rule, x, 1, 32);
  return { xa: p.xa[pos % 32], sum: p.sums[0] };
}

/** The declared reference of the probe: [E][n], value [r][j] = weight j, element elems[r], as declared. */
export function identityReference(
  scheme: ArithmeticScheme,
  type: number,
  data: Uint8Array,
  n: number,
  k: number,
  elems: number[],
): Float64Array {
  const E = elems.length;
  const out = new Float64Array(E * n);
  const rb = rowBytes(type, k);
  const act = scheme.activations;
  if (act.kind !== 'int8') {
    const w = new Float32Array(k);
    const rw = scheme.weights.kind === 'float' ? floatRounder(scheme.weights) : null;
    const one = act.kind === 'float' ? floatRounder(act)(1) : 1;
    for (let j = 0; j < n; j++) {
      codecFor(type).dequantizeRow(data, j * rb, k, w, 0);
      for (let r = 0; r < E; r++) {
        const v = w[elems[r]];
        out[r * n + j] = (rw ? rw(v) : v) * one;
      }
    }
    return out;
  }
  const form = scheme.offsets[type];
  if (!form) throw new Error(`${scheme.id}: no int8 form for this weight type`);
  const hot = elems.map((e) => oneHot(act, e));
  const a = new Float64Array(k);
  const c = new Float64Array(k / 32);
  const tf32 = form === 'exact-sum-tf32';
  const exact = form === 'exact-sum' || tf32;
  for (let j = 0; j < n; j++) {
    splitRow(type, form, data, j * rb, k, a, 0, c, 0);
    for (let r = 0; r < E; r++) {
      const e = elems[r];
      let v = a[e] * hot[r].xa;
      if (exact) {
        const cg = c[e >> 5];
        v -= tf32 ? roundTf32(cg) * roundTf32(hot[r].sum) : cg * hot[r].sum;
      }
      out[r * n + j] = v;
    }
  }
  return out;
}

/** Alternative roundings of a declared scheme: what a kernel with one rounding defect computes. */
export function alternativeSchemes(
  s: ArithmeticScheme,
): { name: string; cls: Alternative['cls']; scheme: ArithmeticScheme }[] {
  const alts: { name: string; cls: Alternative['cls']; scheme: ArithmeticScheme }[] = [];
  const a = s.activations;
  if (a.kind === 'int8') {
    const v = (name: string, rule: Partial<Int8Activations>) =>
      alts.push({
        name,
        cls: 'rounding',
        scheme: { ...s, id: `${s.id}~${name}`, activations: { ...a, ...rule } },
      });
    v('an activation scale of amax/128 (instead of amax/127)', { scaleDivisor: 128 });
    v('activations truncated toward zero (instead of rounded to nearest)', { rounding: 'toward-zero' });
    v(
      a.rounding === 'half-away'
        ? 'activation ties rounded to even (instead of away from zero)'
        : 'activation ties rounded away from zero (instead of to even)',
      { rounding: a.rounding === 'half-away' ? 'half-even' : 'half-away' },
    );
    if (a.scale === 'f32') v('the activation scale stored as half (instead of float32)', { scale: 'f16' });
    if (a.sum === 'f32') v('the activation sums stored as half (instead of float32)', { sum: 'f16' });
    alts.push({ name: 'exact float32 activations (no int8 rounding)', cls: 'rounding', scheme: SCHEMES.f32 });
  } else if (a.kind === 'float') {
    alts.push({
      name: `a truncating ${a.format} conversion (instead of round to nearest even)`,
      cls: 'rounding',
      scheme: {
        ...s,
        id: `${s.id}~trunc`,
        activations: { ...a, rounding: 'toward-zero' },
        weights: { ...a, rounding: 'toward-zero' },
      },
    });
    alts.push({
      name: `${a.format} weights with float32 activations`,
      cls: 'precision',
      scheme: { ...s, id: `${s.id}~w`, activations: { kind: 'f32' } },
    });
    alts.push({ name: 'exact float32 operands (no 16-bit rounding)', cls: 'rounding', scheme: SCHEMES.f32 });
  } else {
    alts.push({ name: 'bfloat16 operands (declared float32)', cls: 'precision', scheme: SCHEMES.bf16 });
    alts.push({ name: 'half-precision operands (declared float32)', cls: 'precision', scheme: SCHEMES.f16 });
    for (const id of ['qs8', 'qs8-mma', 'q8_1'] as const)
      alts.push({
        name: `int8 activations per 32 as ${id} rounds them (declared float32)`,
        cls: 'rounding',
        scheme: SCHEMES[id],
      });
  }
  return alts;
}

/** The references of alternativeSchemes(s) for one output (those the weight type allows). */
export async function alternativeReferences(
  s: ArithmeticScheme,
  type: number,
  data: Uint8Array,
  n: number,
  k: number,
  x: Float32Array,
  m: number,
  signal?: AbortSignal,
): Promise<Alternative[]> {
  const out: Alternative[] = [];
  for (const alt of alternativeSchemes(s)) {
    if (alt.scheme.activations.kind === 'int8' && !alt.scheme.offsets[type]) continue;
    const ref = await referenceMatmul(memorySource(type, n, k, data), x, m, {
      arithmetic: isExact(alt.scheme) ? undefined : alt.scheme,
      signal,
    });
    out.push({ name: alt.name, cls: alt.cls, ref });
  }
  return out;
}
