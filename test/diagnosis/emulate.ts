// Test-side emulators of defective kernels: the weights as a kernel with one planted defect dequantizes
// them (by editing the block bytes where the defect is a misread field, else by arithmetic on the
// exact dequantization), written independently of the diagnosis module's own field decoder.
import { dequantize, f32ToBf16, bf16ToF32, fp16ToF32 } from '../../src-main/engine/formats';
import { GgmlType, rowBytes } from '../../src-main/engine/ggml-types';
import { packScaleMinK4, scaleMinK4 } from '../../src-main/engine/formats/kcommon';

export type Defect =
  | 'nibble-order'
  | 'offset-missing'
  | 'unsigned'
  | 'min-sign'
  | 'high-bits'
  | 'scale-index'
  | 'layout'
  | 'tail-dropped'
  | 'constant-factor'
  | 'precision';

const BLOCK: Record<number, [number, number]> = {
  [GgmlType.Q4_0]: [32, 18],
  [GgmlType.Q8_0]: [32, 34],
  [GgmlType.Q4_K]: [256, 144],
  [GgmlType.Q5_K]: [256, 176],
  [GgmlType.Q6_K]: [256, 210],
};

function blocks(type: number, data: Uint8Array, f: (o: number) => void): void {
  const bb = BLOCK[type][1];
  for (let o = 0; o < data.length; o += bb) f(o);
}
const half = (d: Uint8Array, o: number) => fp16ToF32(d[o] | (d[o + 1] << 8));

/** The [n][k] weights a kernel with `defect` computes with. */
export function defectiveWeights(
  type: number,
  data0: Uint8Array,
  n: number,
  k: number,
  defect: Defect,
): Float32Array {
  const data = data0.slice();
  const [qk] = BLOCK[type] ?? [1, 0];
  switch (defect) {
    case 'nibble-order': {
      const [start, len] = type === GgmlType.Q4_0 ? [2, 16] : type === GgmlType.Q4_K ? [16, 128] : [48, 128];
      blocks(type, data, (o) => {
        for (let i = o + start; i < o + start + len; i++) data[i] = ((data[i] & 15) << 4) | (data[i] >> 4);
      });
      return dequantize(type, data, n, k);
    }
    case 'min-sign':
      blocks(type, data, (o) => (data[o + 3] ^= 0x80)); // dmin negated
      return dequantize(type, data, n, k);
    case 'high-bits': {
      const [start, len] = type === GgmlType.Q5_K ? [16, 32] : [128, 64];
      blocks(type, data, (o) => data.fill(0, o + start, o + start + len));
      return dequantize(type, data, n, k);
    }
    case 'scale-index':
      // every sub-block takes the scale and min of its neighbour (j ^ 1)
      blocks(type, data, (o) => {
        if (type === GgmlType.Q6_K) {
          const t = data[o + 192];
          data[o + 192] = data[o + 193];
          data[o + 193] = t;
          return;
        }
        const ls: number[] = [];
        const lm: number[] = [];
        for (let j = 0; j < 8; j++) {
          const sm = scaleMinK4(j ^ 1, data0, o + 4);
          ls.push(sm & 63);
          lm.push(sm >> 8);
        }
        packScaleMinK4(ls, lm, data, o + 4);
      });
      return dequantize(type, data, n, k);
    default:
      break;
  }
  const w = dequantize(type, data, n, k);
  const rb = rowBytes(type, k);
  switch (defect) {
    case 'offset-missing':
      for (let j = 0; j < n; j++)
        for (let i = 0; i < k; i++) {
          const o = j * rb + Math.floor(i / qk) * BLOCK[type][1];
          if (type === GgmlType.Q4_0) w[j * k + i] += 8 * half(data, o);
          else if (type === GgmlType.Q6_K) {
            const p = i % 256;
            const sub = 8 * (p >> 7) + ((p % 32) >> 4) + 2 * ((p % 128) >> 5);
            w[j * k + i] += 32 * half(data, o + 208) * ((data[o + 192 + sub] << 24) >> 24);
          }
        }
      return w;
    case 'unsigned':
      for (let j = 0; j < n; j++)
        for (let i = 0; i < k; i++) {
          const o = j * rb + Math.floor(i / 32) * 34;
          if (data[o + 2 + (i % 32)] >= 128) w[j * k + i] += 256 * half(data, o);
        }
      return w;
    case 'layout':
      for (let j = 0; j < n; j++)
        for (let b = 0; b < k; b += 32) w.subarray(j * k + b, j * k + b + 32).reverse();
      return w;
    case 'tail-dropped':
      for (let j = 0; j < n; j++) w.fill(0, j * k + k - qk, j * k + k);
      return w;
    case 'constant-factor':
      return w.map((v) => v * 0.5);
    case 'precision':
      return w.map((v) => bf16ToF32(f32ToBf16(v)));
    default:
      throw new Error(`no emulation for ${defect}`);
  }
}

/** The identity probe's output for weights w [n][k]: [k][n], row e = element e of every weight row. */
export function identityOutput(w: Float32Array, n: number, k: number): Float32Array {
  const y = new Float32Array(k * n);
  for (let j = 0; j < n; j++) for (let e = 0; e < k; e++) y[e * n + j] = w[j * k + e];
  return y;
}
