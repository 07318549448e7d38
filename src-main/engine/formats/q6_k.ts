/**
 * Q6_K: 256 elements per 210-byte super-block: u8 ql[128]; u8 qh[64]; i8 scales[16]; half d.
 * Half h (0..1) uses ql[64h..], qh[32h..], scales[8h..]; for l in 0..31 with is = l >> 4:
 *   q1 = (ql[l] & 15 | (qh[l] & 3) << 4) - 32           -> 128h + l,      scale scales[8h+is]
 *   q2 = (ql[l+32] & 15 | (qh[l] >> 2 & 3) << 4) - 32   -> 128h + l + 32, scale scales[8h+is+2]
 *   q3 = (ql[l] >> 4 | (qh[l] >> 4 & 3) << 4) - 32      -> 128h + l + 64, scale scales[8h+is+4]
 *   q4 = (ql[l+32] >> 4 | (qh[l] >> 6 & 3) << 4) - 32   -> 128h + l + 96, scale scales[8h+is+6]
 * value = d * scale * q, evaluated as (d * scale) * q like ggml.
 *
 * Exactness: d*scale has at most 11 + 7 significant bits and times q at most 23 bits, so both float32
 * products are exact and the JS result is bit-identical. No additions, so no FMA question.
 */
import { newFields, pair, type RowFields } from './fields';
import { FP16_TABLE } from './half';
import { checkRow, halfScale, type FormatCodec } from './codec';
import { QK_K, kGrids, makeQx } from './kcommon';
import type { FormatSpec } from './spec';

const BYTES = 210;

function dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void {
  checkRow('Q6_K', k, QK_K, BYTES, src, srcOff, dst, dstOff);
  const nb = k / QK_K;
  const fr = Math.fround;
  let o = srcOff;
  let y = dstOff;
  for (let i = 0; i < nb; i++, o += BYTES, y += QK_K) {
    const d = FP16_TABLE[src[o + 208] | (src[o + 209] << 8)];
    for (let h = 0; h < 2; h++) {
      const ql = o + 64 * h;
      const qh = o + 128 + 32 * h;
      const sc = o + 192 + 8 * h;
      const yy = y + 128 * h;
      for (let is = 0; is < 2; is++) {
        const s1 = fr(d * ((src[sc + is] << 24) >> 24));
        const s2 = fr(d * ((src[sc + is + 2] << 24) >> 24));
        const s3 = fr(d * ((src[sc + is + 4] << 24) >> 24));
        const s4 = fr(d * ((src[sc + is + 6] << 24) >> 24));
        for (let l = 16 * is; l < 16 * is + 16; l++) {
          const a = src[ql + l];
          const b = src[ql + l + 32];
          const hb = src[qh + l];
          dst[yy + l] = s1 * (((a & 15) | ((hb & 3) << 4)) - 32);
          dst[yy + l + 32] = s2 * (((b & 15) | (((hb >> 2) & 3) << 4)) - 32);
          dst[yy + l + 64] = s3 * (((a >> 4) | (((hb >> 4) & 3) << 4)) - 32);
          dst[yy + l + 96] = s4 * (((b >> 4) | (((hb >> 6) & 3) << 4)) - 32);
        }
      }
    }
  }
}

const L = new Uint8Array(QK_K);
const scales = new Float64Array(16);

/**
 * Like quantize_row_q6_K_ref: a signed scale per 16 elements (makeQx, nmax 32, grids of the current effort), the scales quantized
 * to int8 against the largest-magnitude one (which maps to -128), then each element re-rounded to
 * [-32, 31] against its stored scale.
 */
function quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void {
  checkRow('Q6_K', k, QK_K, BYTES, dst, dstOff, src, srcOff);
  const nb = k / QK_K;
  const grids = kGrids(32);
  for (let i = 0; i < nb; i++) {
    const x = srcOff + i * QK_K;
    const o = dstOff + i * BYTES;
    let maxScale = 0;
    let maxAbs = 0;
    for (let ib = 0; ib < 16; ib++) {
      const s = makeQx(src, x + 16 * ib, 16, 32, grids);
      scales[ib] = s;
      if (Math.abs(s) > maxAbs) {
        maxAbs = Math.abs(s);
        maxScale = s;
      }
    }
    if (!(maxAbs >= 1e-15) || !Number.isFinite(maxAbs)) {
      for (let b = 0; b < BYTES; b++) dst[o + b] = 0; // d = 0: an all-zero block, as ggml writes it
      continue;
    }
    const iscale = -128 / maxScale;
    const hd = halfScale(1 / iscale);
    dst[o + 208] = hd & 255;
    dst[o + 209] = hd >> 8;
    const d = FP16_TABLE[hd];
    for (let ib = 0; ib < 16; ib++) {
      const q = Math.max(-128, Math.min(127, Math.round(iscale * scales[ib])));
      dst[o + 192 + ib] = q & 255;
      const dd = d * q;
      const xo = x + 16 * ib;
      if (!dd || !Number.isFinite(dd)) {
        for (let ii = 0; ii < 16; ii++) L[16 * ib + ii] = 32;
        continue;
      }
      const idd = 1 / dd; // ggml divides; a reciprocal only moves exact ties
      for (let ii = 0; ii < 16; ii++) {
        // level = round(x / d) + 32, clamped to [0, 63] (round half up; NaN -> 0)
        const u = src[xo + ii] * idd + 32.5;
        L[16 * ib + ii] = u >= 63 ? 63 : u > 0 ? u | 0 : 0;
      }
    }
    for (let h = 0; h < 2; h++) {
      const ql = o + 64 * h;
      const qh = o + 128 + 32 * h;
      const b = 128 * h;
      for (let l = 0; l < 32; l++) {
        const q1 = L[b + l];
        const q2 = L[b + l + 32];
        const q3 = L[b + l + 64];
        const q4 = L[b + l + 96];
        dst[ql + l] = (q1 & 15) | ((q3 & 15) << 4);
        dst[ql + l + 32] = (q2 & 15) | ((q4 & 15) << 4);
        dst[qh + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
      }
    }
  }
}

export const Q6_K: FormatCodec = {
  typeId: 14,
  name: 'Q6_K',
  blockElems: QK_K,
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
  const nb = k >> 8;
  const sc = new Float64Array(16);
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    let o = j * nb * 210;
    for (let b = 0; b < nb; b++, o += 210) {
      const d = FP16_TABLE[data[o + 208] | (data[o + 209] << 8)];
      for (let i = 0; i < 16; i++) sc[i] = fround(d * ((data[o + 192 + i] << 24) >> 24));
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 256;
        let a = acc[r];
        for (let h = 0; h < 2; h++) {
          const ql = o + 64 * h;
          const qh = o + 128 + 32 * h;
          const xh = xb + 128 * h;
          for (let is = 0; is < 2; is++) {
            let s1 = 0;
            let s2 = 0;
            let s3 = 0;
            let s4 = 0;
            for (let l = 16 * is; l < 16 * is + 16; l++) {
              const va = data[ql + l];
              const vb = data[ql + l + 32];
              const c = data[qh + l];
              s1 += (((va & 15) | ((c & 3) << 4)) - 32) * x[xh + l];
              s2 += (((vb & 15) | (((c >> 2) & 3) << 4)) - 32) * x[xh + l + 32];
              s3 += (((va >> 4) | (((c >> 4) & 3) << 4)) - 32) * x[xh + l + 64];
              s4 += (((vb >> 4) | (((c >> 6) & 3) << 4)) - 32) * x[xh + l + 96];
            }
            const si = 8 * h + is;
            a = fround(a + fround(sc[si] * fround(s1)));
            a = fround(a + fround(sc[si + 2] * fround(s2)));
            a = fround(a + fround(sc[si + 4] * fround(s3)));
            a = fround(a + fround(sc[si + 6] * fround(s4)));
          }
        }
        acc[r] = a;
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

function decQ6_K(
  data: Uint8Array,
  qi: Int8Array,
  o: number,
  q: Float32Array,
  qo: number,
  sc: Float32Array,
  dso: number,
  mso: number,
) {
  const d = FP16_TABLE[data[o + 208] | (data[o + 209] << 8)];
  for (let i = 0; i < 16; i++) {
    sc[dso + 4 * i] = d * qi[o + 192 + i]; // 11 x 8 bits: exact
    sc[mso + 4 * i] = 0;
  }
  for (let h = 0; h < 2; h++) {
    const ql = o + 64 * h;
    const qh = o + 128 + 32 * h;
    const t = qo + 512 * h;
    for (let l = 0; l < 32; l++) {
      const va = data[ql + l];
      const vb = data[ql + l + 32];
      const c = data[qh + l];
      q[t + 4 * l] = ((va & 15) | ((c & 3) << 4)) - 32;
      q[t + 4 * l + 128] = ((vb & 15) | (((c >> 2) & 3) << 4)) - 32;
      q[t + 4 * l + 256] = ((va >> 4) | (((c >> 4) & 3) << 4)) - 32;
      q[t + 4 * l + 384] = ((vb >> 4) | (((c >> 6) & 3) << 4)) - 32;
    }
  }
}

/** Q6_K fields: 16 sub-blocks of 16, d * int8 scale * (6-bit value - 32); ql nibbles pair elements 64 apart. */
function fieldsRow(data: Uint8Array, off: number, k: number): RowFields {
  const f = newFields(k, QK_K, 16, 32);
  const lists: { s: number; c: number }[][] = [];
  for (let b = 0; b < k / QK_K; b++) {
    const o = off + b * BYTES;
    const d = FP16_TABLE[data[o + 208] | (data[o + 209] << 8)];
    const list: { s: number; c: number }[] = [];
    for (let j = 0; j < 16; j++) list.push({ s: d * ((data[o + 192 + j] << 24) >> 24), c: 0 });
    lists.push(list);
    for (let h = 0; h < 2; h++)
      for (let l = 0; l < 32; l++) {
        const a = data[o + 64 * h + l];
        const a2 = data[o + 64 * h + l + 32];
        const hb = data[o + 128 + 32 * h + l];
        const base = b * QK_K + 128 * h + l;
        const vals = [
          [a & 15, hb & 3],
          [a2 & 15, (hb >> 2) & 3],
          [a >> 4, (hb >> 4) & 3],
          [a2 >> 4, (hb >> 6) & 3],
        ];
        for (let t = 0; t < 4; t++) {
          const i = base + 32 * t;
          f.lo[i] = vals[t][0];
          f.q[i] = vals[t][0] | (vals[t][1] << 4);
          f.sub[i] = 8 * h + (l >> 4) + 2 * t;
          f.s[i] = list[f.sub[i]].s;
        }
        pair(f, base, base + 64);
        pair(f, base + 32, base + 96);
      }
  }
  f.blockScales = (i) => lists[Math.floor(i / QK_K)];
  return f;
}

export const Q6_K_SPEC: FormatSpec = {
  id: 14,
  name: 'Q6_K',
  blockElems: QK_K,
  blockBytes: BYTES,
  float: false,
  codec: Q6_K,
  scaleOffsets: [208],
  cpu: { rows: cpuRows, xsums: false, simd: { dec: decQ6_K, E: 256, B: 210, S: 16, mins: false } },
  gpu: {
    stem: 'q6_k',
    paths: ['f32', 'int8', 'int8-mma', 'mma'],
    // auto: int8 matrix units up to m = 64, bfloat16 tiles above (H200, n = 4096, k = 14336, hot:
    // int8 / bf16 51.3 / 108 us at m = 16 (16x256 tiles), 85.0 / 118.5 at 64 (64x256; 142 on 128x128),
    // 468 / 446 at 512)
    int8MmaUpTo: 64,
    int8MmaTiles: { 64: '64x256' },
    // Hopper: bfloat16 warpgroup kernels above m = 6 (n = 4096, k = 14336, hot, the int8 small-batch
    // kernel / the bfloat16 warpgroup kernel; with the 8-part units of kernels/q6_k.h, an H100, one call:
    // m = 6 (8 rows x 4 warps): 31.3 / 36.3, 8: 39.5 / 36.5; with the 4-part units before
    // them, an H200, one call: m = 5: 29.3 / 30.7, 6: 32.8 / 30.8, 7: 38.3 / 30.9, 8: 39.9 / 31.0; int8
    // tiles / bfloat16: m = 9: 53.2 / 31.1, 16: 51.6 / 31.8, 64: 83.7 / 36.9)
    wgmmaBf16Above: 6,
  },
  fields: {
    decode: fieldsRow,
    traits: {
      nibbles: true,
      subScales: true,
      offset: 'the Q6_K offset (-32 per 6-bit value) is missing',
      highBits: 'the two bits from qh',
    },
  },
};
