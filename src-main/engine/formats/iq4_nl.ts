/**
 * IQ4_NL: 32 elements per 18-byte block: half d; u8 qs[16]. Each nibble indexes the non-linear table
 * KVALUES_IQ4NL (16 signed levels); element j (j < 16) uses the low nibble of qs[j], element j+16 the
 * high nibble; value = d * KVALUES_IQ4NL[nibble].
 *
 * Exactness: a half (11 significant bits) times a 7-bit table value is exact in float32, so the JS
 * result is bit-identical. No additions, so no FMA question.
 */
import { nibbleBlockFields, type RowFields } from './fields';
import { FP16_TABLE } from './half';
import { checkRow, halfScale, type FormatCodec } from './codec';
import { quantizeEffort, type QuantizeEffort } from './kcommon';
import type { FormatSpec } from './spec';

const QK = 32;
const BYTES = 18;

/** The 16 levels of IQ4_NL and IQ4_XS (ggml's kvalues_iq4nl), ascending. */
export const KVALUES_IQ4NL: Readonly<Int8Array> = Int8Array.from([
  -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
]);
const KV = KVALUES_IQ4NL;

function dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void {
  checkRow('IQ4_NL', k, QK, BYTES, src, srcOff, dst, dstOff);
  const nb = k / QK;
  let o = srcOff;
  let y = dstOff;
  for (let i = 0; i < nb; i++, o += BYTES, y += QK) {
    const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
    const q = o + 2;
    for (let j = 0; j < 16; j++) {
      const b = src[q + j];
      dst[y + j] = d * KV[b & 15];
      dst[y + j + 16] = d * KV[b >> 4];
    }
  }
}

/** NEAR[f + 128]: the index of the level nearest to the integer f, for f in [-128, 127]. */
const NEAR = new Uint8Array(256);
for (let f = -128, i = 0; f < 128; f++) {
  while (i < 15 && f - KV[i] > KV[i + 1] - f) i++;
  NEAR[f + 128] = i;
}

/**
 * Index of the table level nearest to v (ties to the lower level; NaN -> the level nearest 0). The
 * levels are at least 12 apart, so for v in [f, f + 1) the answer is NEAR[f] or the next index.
 */
export function nearestIq4(v: number): number {
  if (!(v > KV[0])) return v <= KV[0] ? 0 : 8;
  if (v >= KV[15]) return 15;
  const i = NEAR[Math.floor(v) + 128];
  return i < 15 && v - KV[i] > KV[i + 1] - v ? i + 1 : i;
}

/**
 * The candidate scales tried per group, by quantize effort: -8 is the first guess, i the inverse
 * scale (i - 127) / max. 'ggml' tries all of ggml's (i in -7..7).
 */
const IQ4_TRIES: Record<QuantizeEffort, readonly number[]> = {
  fast: [-8, -4, 0, 4],
  balanced: [-8, -6, -4, -2, 0, 2, 4, 6],
  ggml: [-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7],
};

/**
 * Like ggml's quantize_row_iq4_nl_impl without an importance matrix: weights x^2; the candidate
 * inverse scales of IQ4_TRIES (ggml's first guess maps the largest-magnitude value to the table's
 * end, then (itry - 127) / max), each followed by the weighted least-squares scale of its levels;
 * keeps the best. Writes the level indices to L[lo..lo+n) and returns the signed scale (0 for an
 * all-zero or non-finite group).
 */
export function iq4Scale(x: Float32Array, xo: number, n: number, L: Uint8Array, lo: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < n; j++) {
    const a = Math.abs(x[xo + j]);
    if (a > amax) {
      amax = a;
      max = x[xo + j];
    }
  }
  if (!(amax >= 1e-15) || !Number.isFinite(amax)) {
    for (let j = 0; j < n; j++) L[lo + j] = 8;
    return 0;
  }
  let best = -1;
  let bestD = 0;
  const tries = IQ4_TRIES[quantizeEffort()];
  for (let t = 0; t < tries.length; t++) {
    const itry = tries[t];
    // itry = -8 stands for ggml's first guess, id = values[0] / -max
    const id = itry === -8 ? -KV[0] / max : (itry + KV[0]) / max;
    let sumqx = 0;
    let sumq2 = 0;
    for (let j = 0; j < n; j++) {
      const v = x[xo + j];
      const q = KV[nearestIq4(id * v)];
      const w = v * v;
      sumqx += w * q * v;
      sumq2 += w * q * q;
    }
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      best = (sumqx * sumqx) / sumq2;
      bestD = sumqx / sumq2;
    }
  }
  const id = bestD ? 1 / bestD : 0;
  for (let j = 0; j < n; j++) L[lo + j] = nearestIq4(id * x[xo + j]);
  return bestD;
}

const LV = new Uint8Array(QK);

/** Like quantize_row_iq4_nl_ref: iq4Scale per block, then the levels re-chosen against the stored half. */
function quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void {
  checkRow('IQ4_NL', k, QK, BYTES, dst, dstOff, src, srcOff);
  const nb = k / QK;
  for (let i = 0; i < nb; i++) {
    const x = srcOff + i * QK;
    const o = dstOff + i * BYTES;
    const h = halfScale(iq4Scale(src, x, QK, LV, 0));
    dst[o] = h & 255;
    dst[o + 1] = h >> 8;
    const d = FP16_TABLE[h];
    if (d) for (let j = 0; j < QK; j++) LV[j] = nearestIq4(src[x + j] / d);
    for (let j = 0; j < 16; j++) dst[o + 2 + j] = LV[j] | (LV[j + 16] << 4);
  }
}

export const IQ4_NL: FormatCodec = {
  typeId: 20,
  name: 'IQ4_NL',
  blockElems: QK,
  blockBytes: BYTES,
  dequantizeRow,
  quantizeRow,
};

// cpu backend: the fused dot product and the SIMD decoder

const fround = Math.fround;

function cpuRows(
  data: Uint8Array,
  rows: number,
  k: number,
  x: Float32Array,
  _xs: Float32Array | null,
  m: number,
  out: Float32Array,
  acc: Float64Array,
): void {
  const nb = k >> 5;
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    let o = j * nb * BYTES;
    for (let b = 0; b < nb; b++, o += BYTES) {
      const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
      const q = o + 2;
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 32;
        let s0 = 0;
        let s1 = 0;
        for (let l = 0; l < 16; l++) {
          const v = data[q + l];
          s0 += KV[v & 15] * x[xb + l];
          s1 += KV[v >> 4] * x[xb + l + 16];
        }
        acc[r] = fround(acc[r] + fround(d * fround(s0 + s1)));
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

function decIQ4_NL(
  data: Uint8Array,
  _qi: Int8Array,
  o: number,
  q: Float32Array,
  qo: number,
  sc: Float32Array,
  dso: number,
  mso: number,
): void {
  sc[dso] = FP16_TABLE[data[o] | (data[o + 1] << 8)];
  sc[mso] = 0;
  for (let l = 0; l < 16; l++) {
    const v = data[o + 2 + l];
    q[qo + 4 * l] = KV[v & 15];
    q[qo + 4 * l + 64] = KV[v >> 4];
  }
}

/** IQ4_NL fields: d * level[nibble]; element j and j + 16 share byte j. */
function fieldsRow(data: Uint8Array, off: number, k: number): RowFields {
  return nibbleBlockFields(data, off, k, { bytes: BYTES, qs: 2, qoff: 0, levels: KV });
}

export const IQ4_NL_SPEC: FormatSpec = {
  id: 20,
  name: 'IQ4_NL',
  blockElems: QK,
  blockBytes: BYTES,
  float: false,
  codec: IQ4_NL,
  scaleOffsets: [0],
  cpu: { rows: cpuRows, xsums: false, simd: { dec: decIQ4_NL, E: 32, B: BYTES, S: 32, mins: false } },
  gpu: {
    stem: 'iq4_nl',
    paths: ['f32', 'int8', 'int8-mma', 'mma'],
    // Hopper: bfloat16 warpgroup kernels above m = 16 (H200, n = 4096, k = 14336, hot, int8
    // tiles / bfloat16 warpgroup kernel: m = 16: 33.4 / 38.6 us, 24: 41.9 / 39.4, 32: 40.9 /
    // 40.4, 64: 62.9 / 43.7)
    wgmmaBf16Above: 16,
  },
  fields: { decode: fieldsRow, traits: { nibbles: true } },
};
