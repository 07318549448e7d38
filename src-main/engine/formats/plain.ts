/** F32 / F16 / BF16 stored as plain little-endian floats (block of 1 element). */
import { FP16_TABLE, bf16FromF32Bits, fp16FromF32Bits } from './half';
import { checkRow, type FormatCodec } from './codec';
import type { CpuRowsKernel, FormatSpec } from './spec';

const T = FP16_TABLE; // a local binding keeps the hot loop free of module-namespace lookups

export const F32: FormatCodec = {
  typeId: 0,
  name: 'F32',
  blockElems: 1,
  blockBytes: 4,
  dequantizeRow(src, srcOff, k, dst, dstOff) {
    checkRow('F32', k, 1, 4, src, srcOff, dst, dstOff);
    // a byte copy: alignment-free and keeps every bit (NaN payloads too); little-endian hosts only
    new Uint8Array(dst.buffer, dst.byteOffset + dstOff * 4, k * 4).set(src.subarray(srcOff, srcOff + k * 4));
  },
  quantizeRow(src, srcOff, k, dst, dstOff) {
    checkRow('F32', k, 1, 4, dst, dstOff, src, srcOff);
    dst.set(new Uint8Array(src.buffer, src.byteOffset + srcOff * 4, k * 4), dstOff);
  },
};

export const F16: FormatCodec = {
  typeId: 1,
  name: 'F16',
  blockElems: 1,
  blockBytes: 2,
  dequantizeRow(src, srcOff, k, dst, dstOff) {
    checkRow('F16', k, 1, 2, src, srcOff, dst, dstOff);
    for (let j = 0, o = srcOff; j < k; j++, o += 2) dst[dstOff + j] = T[src[o] | (src[o + 1] << 8)];
  },
  quantizeRow(src, srcOff, k, dst, dstOff) {
    checkRow('F16', k, 1, 2, dst, dstOff, src, srcOff);
    const bits = new Uint32Array(src.buffer, src.byteOffset + srcOff * 4, k); // the float32 bits, no copy
    for (let j = 0, o = dstOff; j < k; j++, o += 2) {
      const h = fp16FromF32Bits(bits[j]);
      dst[o] = h & 255;
      dst[o + 1] = h >> 8;
    }
  },
};

export const BF16: FormatCodec = {
  typeId: 30,
  name: 'BF16',
  blockElems: 1,
  blockBytes: 2,
  dequantizeRow(src, srcOff, k, dst, dstOff) {
    checkRow('BF16', k, 1, 2, src, srcOff, dst, dstOff);
    // write the float32 bits directly (bf16 is the top half), so every bit pattern survives
    const out = new Uint32Array(dst.buffer, dst.byteOffset + dstOff * 4, k);
    for (let j = 0, o = srcOff; j < k; j++, o += 2) out[j] = (src[o] << 16) | (src[o + 1] << 24);
  },
  quantizeRow(src, srcOff, k, dst, dstOff) {
    checkRow('BF16', k, 1, 2, dst, dstOff, src, srcOff);
    const bits = new Uint32Array(src.buffer, src.byteOffset + srcOff * 4, k);
    for (let j = 0, o = dstOff; j < k; j++, o += 2) {
      const h = bf16FromF32Bits(bits[j]);
      dst[o] = h & 255;
      dst[o + 1] = h >> 8;
    }
  },
};

// cpu backend: the row is widened to float32 once, then dotted in 32-element float64 chunks

const fround = Math.fround;

let bf16Table: Float32Array | null = null;
function bf16Tab(): Float32Array {
  if (!bf16Table) {
    const t = new Float32Array(65536);
    const u = new Uint32Array(t.buffer);
    for (let h = 0; h < 65536; h++) u[h] = h << 16;
    bf16Table = t;
  }
  return bf16Table;
}

/** Elements of a row widened at a time: multiples of 32, so the 32-element sums are the same. */
const PLAIN_PIECE = 1 << 16;

/**
 * F32 / F16 / BF16: the row is widened to float32 a piece at a time (at most PLAIN_PIECE elements,
 * so a row of 2^28 needs 256 KiB, not 1 GiB), then dotted in 32-element float64 chunks whose float32
 * running sum carries across the pieces: the same sums in the same order as widening it whole.
 */
function plainRows(
  type: number,
  data: Uint8Array,
  rows: number,
  k: number,
  x: Float32Array,
  _xs: Float32Array | null,
  m: number,
  out: Float32Array,
): void {
  const piece = Math.min(k, PLAIN_PIECE);
  const w = new Float32Array(piece);
  const acc = new Float64Array(m);
  const bytes = type === 0 ? 4 : 2;
  const tab = type === 1 ? FP16_TABLE : type === 30 ? bf16Tab() : null;
  const f32 =
    type === 0 && data.byteOffset % 4 === 0
      ? new Float32Array(data.buffer, data.byteOffset, data.byteLength >> 2)
      : null;
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    for (let c0 = 0; c0 < k; c0 += piece) {
      const len = Math.min(piece, k - c0);
      const o = (j * k + c0) * bytes;
      if (f32) w.set(f32.subarray(j * k + c0, j * k + c0 + len));
      else if (tab) for (let i = 0; i < len; i++) w[i] = tab[data[o + 2 * i] | (data[o + 2 * i + 1] << 8)];
      else w.set(new Float32Array(data.slice(o, o + 4 * len).buffer));
      for (let r = 0; r < m; r++) {
        const xb = r * k + c0;
        let a = acc[r];
        let i = 0;
        for (; i + 32 <= len; i += 32) {
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          for (let l = i; l < i + 32; l += 4) {
            s0 += w[l] * x[xb + l];
            s1 += w[l + 1] * x[xb + l + 1];
            s2 += w[l + 2] * x[xb + l + 2];
            s3 += w[l + 3] * x[xb + l + 3];
          }
          a = fround(a + fround(s0 + s1 + (s2 + s3)));
        }
        // only the last piece can end in a partial chunk (the others are multiples of 32)
        if (i < len) {
          let s = 0;
          for (; i < len; i++) s += w[i] * x[xb + i];
          a = fround(a + fround(s));
        }
        acc[r] = a;
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

const kernel =
  (type: number): CpuRowsKernel =>
  (data, rows, k, x, xs, m, out) =>
    plainRows(type, data, rows, k, x, xs, m, out);

const plainSpec = (codec: FormatCodec, stem: string): FormatSpec => ({
  id: codec.typeId,
  name: codec.name,
  blockElems: 1,
  blockBytes: codec.blockBytes,
  float: true,
  codec,
  scaleOffsets: [],
  cpu: { rows: kernel(codec.typeId), xsums: false },
  gpu: { stem, paths: ['f32', 'mma'] },
});

export const F32_SPEC = plainSpec(F32, 'f32');
export const F16_SPEC = plainSpec(F16, 'f16');
export const BF16_SPEC = plainSpec(BF16, 'bf16');
