/**
 * Q4_0: 32 elements per 18-byte block: half d; u8 qs[16]. Element j (j < 16) is the low nibble of
 * qs[j], element j+16 the high nibble; value = (nibble - 8) * d.
 *
 * Exactness: (int4 * half) has at most 15 significant bits, so the float32 product is exact; the JS
 * double product is the same value and the Float32Array store is lossless. No FMA question arises.
 */
import { nibbleBlockFields, type RowFields } from './fields';
import { FP16_TABLE } from './half';
import { checkRow, halfScale, type FormatCodec } from './codec';
import type { FormatSpec } from './spec';
import { needSums } from './cpu-common';

const QK = 32;
const BYTES = 18;

function dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void {
  checkRow('Q4_0', k, QK, BYTES, src, srcOff, dst, dstOff);
  const nb = k / QK;
  let o = srcOff;
  let y = dstOff;
  for (let i = 0; i < nb; i++, o += BYTES, y += QK) {
    const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
    const q = o + 2;
    for (let j = 0; j < 16; j++) {
      const b = src[q + j];
      dst[y + j] = ((b & 15) - 8) * d;
      dst[y + j + 16] = ((b >> 4) - 8) * d;
    }
  }
}

/**
 * Like quantize_row_q4_0_ref: d = max / -8 where max is the signed value of largest magnitude, so the
 * extreme maps to -8 exactly; the rest rounds to nearest with (int8)(x*id + 8.5) clamped to 15. Every
 * step is emulated in float32, so the bytes equal the reference algorithm's (checked against C in
 * test/formats/c-crosscheck.test.ts); only a scale beyond the half range differs (saturated, not inf).
 */
function quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void {
  checkRow('Q4_0', k, QK, BYTES, dst, dstOff, src, srcOff);
  const nb = k / QK;
  for (let i = 0; i < nb; i++) {
    const x = srcOff + i * QK;
    const o = dstOff + i * BYTES;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = src[x + j];
      const a = Math.abs(v);
      if (amax < a) {
        amax = a;
        max = v;
      }
    }
    let d = Math.fround(max / -8);
    const h = halfScale(d);
    if ((h & 0x7fff) === 0x7bff) d = FP16_TABLE[h]; // saturated scale: quantize against what is stored
    const id = d ? Math.fround(1 / d) : 0;
    dst[o] = h & 255;
    dst[o + 1] = h >> 8;
    for (let j = 0; j < 16; j++) {
      const x0 = Math.fround(src[x + j] * id);
      const x1 = Math.fround(src[x + 16 + j] * id);
      // (int8_t)(x + 8.5f): truncation toward zero; x*id lies in [-8, 8] so the result is in [0, 16]
      const q0 = Math.min(15, Math.max(0, Math.trunc(Math.fround(x0 + 8.5))));
      const q1 = Math.min(15, Math.max(0, Math.trunc(Math.fround(x1 + 8.5))));
      dst[o + 2 + j] = q0 | (q1 << 4);
    }
  }
}

export const Q4_0: FormatCodec = {
  typeId: 2,
  name: 'Q4_0',
  blockElems: QK,
  blockBytes: BYTES,
  dequantizeRow,
  quantizeRow,
};

// cpu backend: the fused dot product and the SIMD decoder

const fround = Math.fround;

/** Q4_0 with the bsums trick: d * (sum(q*x) - 8*sum(x)), q the raw nibbles. */
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
    let o = j * nb * 18;
    for (let b = 0; b < nb; b++, o += 18) {
      const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
      const q = o + 2;
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 32;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let l = 0; l < 16; l += 2) {
          const v = data[q + l];
          const w = data[q + l + 1];
          s0 += (v & 15) * x[xb + l];
          s1 += (v >> 4) * x[xb + l + 16];
          s2 += (w & 15) * x[xb + l + 1];
          s3 += (w >> 4) * x[xb + l + 17];
        }
        acc[r] = fround(acc[r] + fround(d * fround(s0 + s1 + (s2 + s3) - 8 * xs[r * nb + b])));
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

function decQ4_0(
  data: Uint8Array,
  _qi: Int8Array,
  o: number,
  q: Float32Array,
  qo: number,
  sc: Float32Array,
  dso: number,
  mso: number,
) {
  sc[dso] = FP16_TABLE[data[o] | (data[o + 1] << 8)];
  sc[mso] = 0;
  for (let l = 0; l < 16; l++) {
    const v = data[o + 2 + l];
    q[qo + 4 * l] = (v & 15) - 8;
    q[qo + 4 * l + 64] = (v >> 4) - 8;
  }
}

/** Q4_0 fields: d * (nibble - 8); element j and j + 16 share byte j. */
function fieldsRow(data: Uint8Array, off: number, k: number): RowFields {
  return nibbleBlockFields(data, off, k, { bytes: BYTES, qs: 2, qoff: 8 });
}

export const Q4_0_SPEC: FormatSpec = {
  id: 2,
  name: 'Q4_0',
  blockElems: QK,
  blockBytes: BYTES,
  float: false,
  codec: Q4_0,
  scaleOffsets: [0],
  cpu: { rows: cpuRows, xsums: true, simd: { dec: decQ4_0, E: 32, B: 18, S: 32, mins: false } },
  gpu: {
    stem: 'q4_0',
    paths: ['f32', 'int8', 'int8-mma', 'mma'],
    // Hopper: bfloat16 warpgroup kernels above m = 16 (H200, n = 4096, k = 14336, hot, int8
    // tiles / bfloat16 warpgroup kernel: m = 16: 29.9 / 30.1 us, 24: 37.9 / 30.9, 32: 37.9 /
    // 31.7, 64: 56.4 / 35.7)
    wgmmaBf16Above: 16,
  },
  fields: {
    decode: fieldsRow,
    traits: { nibbles: true, offset: 'the Q4_0 offset (-8 per nibble) is missing' },
  },
};
