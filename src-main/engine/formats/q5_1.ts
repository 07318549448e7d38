/**
 * Q5_1: 32 elements per 24-byte block: half d; half m; u8 qh[4] (a little-endian u32 of fifth bits);
 * u8 qs[16]. For j < 16: element j = (qs[j] & 15) | bit j of qh << 4, element j+16 = (qs[j] >> 4) |
 * bit j+16 of qh << 4; value = level * d + m.
 *
 * Exactness: as Q4_1 (level * d is 5 x 11 bits, exact; only the addition rounds, once; an FMA
 * contraction gives the same bits).
 */
import { nibbleBlockFields, type RowFields } from './fields';
import { FP16_TABLE } from './half';
import { checkRow, type FormatCodec } from './codec';
import { needSums } from './cpu-common';
import { quantizeRowLegacyMin } from './q4_1';
import { emitQ5, qh32 } from './q5_0';
import type { FormatSpec } from './spec';

const QK = 32;
const BYTES = 24;

function dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void {
  checkRow('Q5_1', k, QK, BYTES, src, srcOff, dst, dstOff);
  const nb = k / QK;
  let o = srcOff;
  let y = dstOff;
  for (let i = 0; i < nb; i++, o += BYTES, y += QK) {
    const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
    const m = FP16_TABLE[src[o + 2] | (src[o + 3] << 8)];
    const qh = qh32(src, o + 4);
    const q = o + 8;
    for (let j = 0; j < 16; j++) {
      const b = src[q + j];
      dst[y + j] = ((b & 15) | (((qh >>> j) & 1) << 4)) * d + m;
      dst[y + j + 16] = ((b >> 4) | (((qh >>> (j + 16)) & 1) << 4)) * d + m;
    }
  }
}

/** Like quantize_row_q5_1_ref: as Q4_1 with 31 levels (d = (max - min) / 31, m = min). */
function quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void {
  quantizeRowLegacyMin('Q5_1', 31, src, srcOff, k, dst, dstOff, BYTES, (L, d, o) => emitQ5(L, d, o + 4));
}

export const Q5_1: FormatCodec = {
  typeId: 7,
  name: 'Q5_1',
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
      const qh = qh32(data, o + 4);
      const q = o + 8;
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 32;
        let s0 = 0;
        let s1 = 0;
        for (let l = 0; l < 16; l++) {
          const v = data[q + l];
          s0 += ((v & 15) | (((qh >>> l) & 1) << 4)) * x[xb + l];
          s1 += ((v >> 4) | (((qh >>> (l + 16)) & 1) << 4)) * x[xb + l + 16];
        }
        acc[r] = fround(acc[r] + fround(d * fround(s0 + s1) + mn * xs[r * nb + b]));
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

function decQ5_1(
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
  const qh = qh32(data, o + 4);
  for (let l = 0; l < 16; l++) {
    const v = data[o + 8 + l];
    q[qo + 4 * l] = (v & 15) | (((qh >>> l) & 1) << 4);
    q[qo + 4 * l + 64] = (v >> 4) | (((qh >>> (l + 16)) & 1) << 4);
  }
}

/** Q5_1 fields: d * 5-bit value + m, so c = -m. */
function fieldsRow(data: Uint8Array, off: number, k: number): RowFields {
  return nibbleBlockFields(data, off, k, { bytes: BYTES, min: 2, qh: 4, qs: 8, qoff: 0 });
}

export const Q5_1_SPEC: FormatSpec = {
  id: 7,
  name: 'Q5_1',
  blockElems: QK,
  blockBytes: BYTES,
  float: false,
  codec: Q5_1,
  scaleOffsets: [0, 2],
  cpu: { rows: cpuRows, xsums: true, simd: { dec: decQ5_1, E: 32, B: BYTES, S: 32, mins: true } },
  gpu: {
    stem: 'q5_1',
    paths: ['f32', 'int8', 'int8-mma', 'mma'],
    // H200, n = 4096, k = 14336, hot: 50.3 us at m = 32 on 32x128 tiles, 52.5 on 32x256
    int8MmaTiles: { 32: '32x128' },
    // Hopper: bfloat16 warpgroup kernels above m = 8 (H200, n = 4096, k = 14336, hot, int8 tiles
    // / bfloat16 warpgroup kernel: m = 16: 34.2 / 30.4 us, 32: 49.4 / 31.7, 64: 63.8 / 36.9; at
    // m = 9 to 15 both run the tile they run at 16)
    wgmmaBf16Above: 8,
  },
  fields: {
    decode: fieldsRow,
    traits: {
      nibbles: true,
      minSign: true,
      offset: 'the Q5_1 block minimum m is not added',
      highBits: 'the fifth bit from qh',
    },
  },
};
