/**
 * Q4_1: 32 elements per 20-byte block: half d; half m; u8 qs[16]. Element j (j < 16) is the low nibble
 * of qs[j], element j+16 the high nibble; value = nibble * d + m.
 *
 * Exactness: nibble * d (4 x 11 bits) is exact in float32, so only the addition rounds, once; JS adds
 * in float64 and the Float32Array store rounds again, which for one addition of two float32 values
 * gives the float32 result (53 >= 2*24 + 2). An FMA contraction gives the same bits (exact product).
 */
import { nibbleBlockFields, type RowFields } from './fields';
import { FP16_TABLE } from './half';
import { checkRow, halfScale, type FormatCodec } from './codec';
import { needSums } from './cpu-common';
import type { FormatSpec } from './spec';

const QK = 32;
const BYTES = 20;

function dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void {
  checkRow('Q4_1', k, QK, BYTES, src, srcOff, dst, dstOff);
  const nb = k / QK;
  let o = srcOff;
  let y = dstOff;
  for (let i = 0; i < nb; i++, o += BYTES, y += QK) {
    const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
    const m = FP16_TABLE[src[o + 2] | (src[o + 3] << 8)];
    const q = o + 4;
    for (let j = 0; j < 16; j++) {
      const b = src[q + j];
      dst[y + j] = (b & 15) * d + m;
      dst[y + j + 16] = (b >> 4) * d + m;
    }
  }
}

const LV = new Uint8Array(QK);

/**
 * Like quantize_row_q4_1_ref: d = (max - min) / 15, m = min, each element (x - m) / d rounded half up
 * and clamped to [0, 15]. Scale and min are rounded to half first and the levels chosen against the
 * stored values, so a saturated scale still gives in-range levels.
 */
export function quantizeRowLegacyMin(
  name: string,
  nmax: number,
  src: Float32Array,
  srcOff: number,
  k: number,
  dst: Uint8Array,
  dstOff: number,
  bytes: number,
  emit: (L: Uint8Array, dst: Uint8Array, o: number) => void,
): void {
  checkRow(name, k, QK, bytes, dst, dstOff, src, srcOff);
  const nb = k / QK;
  for (let i = 0; i < nb; i++) {
    const x = srcOff + i * QK;
    const o = dstOff + i * bytes;
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < QK; j++) {
      const v = src[x + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (!Number.isFinite(min) || !Number.isFinite(max)) min = max = 0; // NaN/inf input: a zero block
    const hd = halfScale((max - min) / nmax);
    const hm = halfScale(min);
    dst[o] = hd & 255;
    dst[o + 1] = hd >> 8;
    dst[o + 2] = hm & 255;
    dst[o + 3] = hm >> 8;
    const d = FP16_TABLE[hd];
    const m = FP16_TABLE[hm];
    const id = d ? 1 / d : 0;
    for (let j = 0; j < QK; j++) {
      const t = (src[x + j] - m) * id;
      LV[j] = t >= nmax ? nmax : t > 0 ? (t + 0.5) | 0 : 0; // round half up, clamp, NaN -> 0
    }
    emit(LV, dst, o);
  }
}

function emitQ4_1(L: Uint8Array, dst: Uint8Array, o: number): void {
  for (let j = 0; j < 16; j++) dst[o + 4 + j] = L[j] | (L[j + 16] << 4);
}

function quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void {
  quantizeRowLegacyMin('Q4_1', 15, src, srcOff, k, dst, dstOff, BYTES, emitQ4_1);
}

export const Q4_1: FormatCodec = {
  typeId: 3,
  name: 'Q4_1',
  blockElems: QK,
  blockBytes: BYTES,
  dequantizeRow,
  quantizeRow,
};

// cpu backend: the fused dot product (bsums: d*sum(q*x) + m*sum(x)) and the SIMD decoder

const fround = Math.fround;

function cpuRows(
  data: Uint8Array,
  rows: number,
  k: number,
  x: Float32Array,
  xsIn: Float32Array | null,
  m: number,
  out: Float32Array,
  acc: Float64Array,
): void {
  const xs = needSums(xsIn);
  const nb = k >> 5;
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    let o = j * nb * BYTES;
    for (let b = 0; b < nb; b++, o += BYTES) {
      const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
      const mn = FP16_TABLE[data[o + 2] | (data[o + 3] << 8)];
      const q = o + 4;
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 32;
        let s0 = 0;
        let s1 = 0;
        for (let l = 0; l < 16; l++) {
          const v = data[q + l];
          s0 += (v & 15) * x[xb + l];
          s1 += (v >> 4) * x[xb + l + 16];
        }
        acc[r] = fround(acc[r] + fround(d * fround(s0 + s1) + mn * xs[r * nb + b]));
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

function decQ4_1(
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
  sc[mso] = -FP16_TABLE[data[o + 2] | (data[o + 3] << 8)]; // the kernel subtracts ms * sum(x)
  for (let l = 0; l < 16; l++) {
    const v = data[o + 4 + l];
    q[qo + 4 * l] = v & 15;
    q[qo + 4 * l + 64] = v >> 4;
  }
}

/** Q4_1 fields: d * nibble + m, so c = -m. */
function fieldsRow(data: Uint8Array, off: number, k: number): RowFields {
  return nibbleBlockFields(data, off, k, { bytes: BYTES, min: 2, qs: 4, qoff: 0 });
}

export const Q4_1_SPEC: FormatSpec = {
  id: 3,
  name: 'Q4_1',
  blockElems: QK,
  blockBytes: BYTES,
  float: false,
  codec: Q4_1,
  scaleOffsets: [0, 2],
  cpu: { rows: cpuRows, xsums: true, simd: { dec: decQ4_1, E: 32, B: BYTES, S: 32, mins: true } },
  gpu: {
    stem: 'q4_1',
    paths: ['f32', 'int8', 'int8-mma', 'mma'],
    // H200, n = 4096, k = 14336, hot: 39.9 us at m = 32 on 32x128 tiles, 48.2 on 32x256
    int8MmaTiles: { 32: '32x128' },
    // Hopper: bfloat16 warpgroup kernels above m = 8 (H200, n = 4096, k = 14336, hot, int8 tiles
    // / bfloat16 warpgroup kernel: m = 16: 28.7 / 27.2 us, 32: 39.6 / 28.6, 64: 56.6 / 33.2; at
    // m = 9 to 15 both run the tile they run at 16)
    wgmmaBf16Above: 8,
  },
  fields: {
    decode: fieldsRow,
    traits: { nibbles: true, minSign: true, offset: 'the Q4_1 block minimum m is not added' },
  },
};
