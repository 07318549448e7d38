/**
 * Q5_0: 32 elements per 22-byte block: half d; u8 qh[4] (a little-endian u32 of fifth bits); u8 qs[16].
 * For j < 16: element j = ((qs[j] & 15) | bit j of qh << 4) - 16, element j+16 = ((qs[j] >> 4) |
 * bit j+16 of qh << 4) - 16; value = that signed 5-bit level * d.
 *
 * Exactness: (int5 * half) has at most 16 significant bits: the float32 product is exact, so the JS
 * result is bit-identical. No additions, so no FMA question.
 */
import { nibbleBlockFields, type RowFields } from './fields';
import { FP16_TABLE } from './half';
import { checkRow, halfScale, type FormatCodec } from './codec';
import type { FormatSpec } from './spec';

const QK = 32;
const BYTES = 22;

/** The 32 fifth bits of a Q5_0 / Q5_1 block, as an unsigned 32-bit number. */
export function qh32(src: Uint8Array, o: number): number {
  return (src[o] | (src[o + 1] << 8) | (src[o + 2] << 16) | (src[o + 3] << 24)) >>> 0;
}

function dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void {
  checkRow('Q5_0', k, QK, BYTES, src, srcOff, dst, dstOff);
  const nb = k / QK;
  let o = srcOff;
  let y = dstOff;
  for (let i = 0; i < nb; i++, o += BYTES, y += QK) {
    const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
    const qh = qh32(src, o + 2);
    const q = o + 6;
    for (let j = 0; j < 16; j++) {
      const b = src[q + j];
      dst[y + j] = (((b & 15) | (((qh >>> j) & 1) << 4)) - 16) * d;
      dst[y + j + 16] = (((b >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16) * d;
    }
  }
}

/** Packs 32 levels in [0, 31] into qh (u32 at o) and qs (16 bytes at o + 4) of a Q5_0 / Q5_1 block. */
export function emitQ5(L: Uint8Array, dst: Uint8Array, o: number): void {
  let qh = 0;
  for (let j = 0; j < 16; j++) {
    const a = L[j];
    const b = L[j + 16];
    dst[o + 4 + j] = (a & 15) | ((b & 15) << 4);
    qh |= ((a >> 4) << j) | ((b >> 4) << (j + 16));
  }
  dst[o] = qh & 255;
  dst[o + 1] = (qh >>> 8) & 255;
  dst[o + 2] = (qh >>> 16) & 255;
  dst[o + 3] = qh >>> 24;
}

const LV = new Uint8Array(QK);

/**
 * Like quantize_row_q5_0_ref: d = max / -16 where max is the signed value of largest magnitude (the
 * extreme maps to level 0, value -16*d), each element x / d + 16.5 truncated and clamped to [0, 31].
 * The levels are chosen against the stored half scale.
 */
function quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void {
  checkRow('Q5_0', k, QK, BYTES, dst, dstOff, src, srcOff);
  const nb = k / QK;
  for (let i = 0; i < nb; i++) {
    const x = srcOff + i * QK;
    const o = dstOff + i * BYTES;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const a = Math.abs(src[x + j]);
      if (amax < a) {
        amax = a;
        max = src[x + j];
      }
    }
    if (!Number.isFinite(max)) max = 0; // inf input: a zero block
    const h = halfScale(max / -16);
    dst[o] = h & 255;
    dst[o + 1] = h >> 8;
    const d = FP16_TABLE[h];
    const id = d ? 1 / d : 0;
    for (let j = 0; j < QK; j++) {
      const t = src[x + j] * id + 16.5;
      LV[j] = t >= 31 ? 31 : t > 0 ? t | 0 : 0; // truncate, clamp, NaN -> 0
    }
    emitQ5(LV, dst, o + 2);
  }
}

export const Q5_0: FormatCodec = {
  typeId: 6,
  name: 'Q5_0',
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
      const qh = qh32(data, o + 2);
      const q = o + 6;
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 32;
        let s0 = 0;
        let s1 = 0;
        for (let l = 0; l < 16; l++) {
          const v = data[q + l];
          s0 += (((v & 15) | (((qh >>> l) & 1) << 4)) - 16) * x[xb + l];
          s1 += (((v >> 4) | (((qh >>> (l + 16)) & 1) << 4)) - 16) * x[xb + l + 16];
        }
        acc[r] = fround(acc[r] + fround(d * fround(s0 + s1)));
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

function decQ5_0(
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
  const qh = qh32(data, o + 2);
  for (let l = 0; l < 16; l++) {
    const v = data[o + 6 + l];
    q[qo + 4 * l] = ((v & 15) | (((qh >>> l) & 1) << 4)) - 16;
    q[qo + 4 * l + 64] = ((v >> 4) | (((qh >>> (l + 16)) & 1) << 4)) - 16;
  }
}

/** Q5_0 fields: d * (5-bit value - 16); the nibbles share bytes as in Q4_0, the fifth bits come from qh. */
function fieldsRow(data: Uint8Array, off: number, k: number): RowFields {
  return nibbleBlockFields(data, off, k, { bytes: BYTES, qh: 2, qs: 6, qoff: 16 });
}

export const Q5_0_SPEC: FormatSpec = {
  id: 6,
  name: 'Q5_0',
  blockElems: QK,
  blockBytes: BYTES,
  float: false,
  codec: Q5_0,
  scaleOffsets: [0],
  cpu: { rows: cpuRows, xsums: false, simd: { dec: decQ5_0, E: 32, B: BYTES, S: 32, mins: false } },
  gpu: {
    stem: 'q5_0',
    paths: ['f32', 'int8', 'int8-mma', 'mma'],
    // Hopper: bfloat16 warpgroup kernels above m = 8 (H200, n = 4096, k = 14336, hot, int8 tiles
    // / bfloat16 warpgroup kernel: m = 16: 34.3 / 30.9 us, 32: 43.9 / 32.3, 64: 66.5 / 36.4; at
    // m = 9 to 15 both run the tile they run at 16)
    wgmmaBf16Above: 8,
  },
  fields: {
    decode: fieldsRow,
    traits: {
      nibbles: true,
      offset: 'the Q5_0 offset (-16 per 5-bit value) is missing',
      highBits: 'the fifth bit from qh',
    },
  },
};
