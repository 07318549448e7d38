/**
 * The cpu backend's fused dot products: each format's blocks are decoded to their small integers and
 * per-sub-block float32 scales (no dequantized float weight buffer), the way the GPU kernels work,
 * with float32 accumulation:
 * - inside a sub-block (16 or 32 elements) the integer-weight products q*x are summed, then rounded to
 *   float32 (m = 1: summed in float64 by per-format JS loops; m >= 2: summed in float32 lanes by the
 *   WebAssembly SIMD kernel of ./cpu-simd.ts, four weight rows and two activation rows at a time);
 * - each sub-block's scaled contribution is rounded to float32 and added to a float32 accumulator.
 * Q4_K / Q5_K use the llama.cpp "bsums" trick: d*sc*sum(q*x) - dmin*m*sum(x), with sum(x) per 32
 * elements precomputed once per activation row (xsums).
 * F32 / F16 / BF16 rows are widened to float32 and dotted in 32-element float64 chunks, rounded per chunk.
 *
 * Hand-written: these are the CPU counterparts of kernels/*.cu; nothing off the shelf computes GGUF
 * block formats.
 */
import { FP16_TABLE } from '../formats';
import { simdTile } from './cpu-simd';

const fround = Math.fround;
/** from this batch size on, the decode-once SIMD kernel beats the per-format inline loops */
const SIMD_FROM_M = 2;

/** Payload of the 'cpu-rows' worker task. */
export interface CpuRowsPayload {
  type: number;
  k: number;
  rows: number;
  m: number;
  /** float32 [m][k] activations */
  x: SharedArrayBuffer;
  /** float32 [m][k/32] sums of x per 32 elements (Q4_0 / Q4_K / Q5_K only) */
  xsums: SharedArrayBuffer | null;
  /** rows * rowBytes weight bytes */
  data: Uint8Array;
}

/** float32 sums of each 32-element group of every activation row: [m][k/32]. */
export function activationSums(x: Float32Array, m: number, k: number): Float32Array {
  const g = k >> 5;
  const out = new Float32Array(m * g);
  for (let r = 0; r < m; r++) {
    for (let b = 0; b < g; b++) {
      const base = r * k + b * 32;
      let s = 0;
      for (let l = 0; l < 32; l++) s += x[base + l];
      out[r * g + b] = s;
    }
  }
  return out;
}

/** Types this module computes. */
export const CPU_TYPES: ReadonlySet<number> = new Set([0, 1, 2, 8, 12, 13, 14, 30]);

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

/** Computes out[r * rows + j] = y[r][j] (float32) for the rows of the payload. */
export function cpuRows(p: CpuRowsPayload): Float32Array {
  const { type, k, rows, m } = p;
  const x = new Float32Array(p.x, 0, m * k);
  const out = new Float32Array(m * rows);
  const acc = new Float64Array(m);
  const sh = m >= SIMD_FROM_M ? SHAPES[type] : undefined;
  const xs = sh?.mins && p.xsums ? new Float32Array(p.xsums, 0, m * (k >> 5)) : null;
  if (sh && simdRows(sh, p.data, rows, k, x, xs, m, out)) return out;
  switch (type) {
    case 2:
      if (!p.xsums) throw new Error('cpu-rows: activation sums missing');
      q4_0(p.data, rows, k, x, new Float32Array(p.xsums, 0, m * (k >> 5)), m, out, acc);
      break;
    case 8:
      q8_0(p.data, rows, k, x, m, out, acc);
      break;
    case 12:
    case 13: {
      if (!p.xsums) throw new Error('cpu-rows: activation sums missing');
      const xs = new Float32Array(p.xsums, 0, m * (k >> 5));
      if (type === 12) q4_k(p.data, rows, k, x, xs, m, out, acc);
      else q5_k(p.data, rows, k, x, xs, m, out, acc);
      break;
    }
    case 14:
      q6_k(p.data, rows, k, x, m, out, acc);
      break;
    case 0:
    case 1:
    case 30:
      plain(type, p.data, rows, k, x, m, out);
      break;
    default:
      throw new Error(`cpu backend: type ${type} is not supported`);
  }
  return out;
}

/** Q4_0 with the bsums trick: d * (sum(q*x) - 8*sum(x)), q the raw nibbles. */
function q4_0(
  data: Uint8Array,
  rows: number,
  k: number,
  x: Float32Array,
  xs: Float32Array,
  m: number,
  out: Float32Array,
  acc: Float64Array,
) {
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

function q8_0(
  data: Uint8Array,
  rows: number,
  k: number,
  x: Float32Array,
  m: number,
  out: Float32Array,
  acc: Float64Array,
) {
  const qi = new Int8Array(data.buffer, data.byteOffset, data.byteLength);
  const nb = k >> 5;
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    let o = j * nb * 34;
    for (let b = 0; b < nb; b++, o += 34) {
      const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
      const q = o + 2;
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 32;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let l = 0; l < 32; l += 4) {
          s0 += qi[q + l] * x[xb + l];
          s1 += qi[q + l + 1] * x[xb + l + 1];
          s2 += qi[q + l + 2] * x[xb + l + 2];
          s3 += qi[q + l + 3] * x[xb + l + 3];
        }
        acc[r] = fround(acc[r] + fround(d * fround(s0 + s1 + (s2 + s3))));
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

/** 6-bit scales and mins of the 8 sub-blocks of a Q4_K / Q5_K block (get_scale_min_k4). */
function kScales(data: Uint8Array, s: number, sc: Int32Array, mn: Int32Array): void {
  for (let j = 0; j < 4; j++) {
    sc[j] = data[s + j] & 63;
    mn[j] = data[s + j + 4] & 63;
  }
  for (let j = 4; j < 8; j++) {
    sc[j] = (data[s + j + 4] & 15) | ((data[s + j - 4] >> 6) << 4);
    mn[j] = (data[s + j + 4] >> 4) | ((data[s + j] >> 6) << 4);
  }
}

function q4_k(
  data: Uint8Array,
  rows: number,
  k: number,
  x: Float32Array,
  xs: Float32Array,
  m: number,
  out: Float32Array,
  acc: Float64Array,
) {
  const nb = k >> 8;
  const g32 = k >> 5;
  const sc = new Int32Array(8);
  const mn = new Int32Array(8);
  const ds = new Float64Array(8);
  const ms = new Float64Array(8);
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    let o = j * nb * 144;
    for (let b = 0; b < nb; b++, o += 144) {
      const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
      const dmin = FP16_TABLE[data[o + 2] | (data[o + 3] << 8)];
      kScales(data, o + 4, sc, mn);
      for (let s = 0; s < 8; s++) {
        ds[s] = fround(d * sc[s]);
        ms[s] = fround(dmin * mn[s]);
      }
      const q = o + 16;
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 256;
        const sb = r * g32 + b * 8;
        let a = acc[r];
        for (let g = 0; g < 4; g++) {
          const qg = q + 32 * g;
          const xl = xb + 64 * g;
          let lo0 = 0;
          let lo1 = 0;
          let hi0 = 0;
          let hi1 = 0;
          for (let l = 0; l < 32; l += 2) {
            const v0 = data[qg + l];
            const v1 = data[qg + l + 1];
            lo0 += (v0 & 15) * x[xl + l];
            lo1 += (v1 & 15) * x[xl + l + 1];
            hi0 += (v0 >> 4) * x[xl + 32 + l];
            hi1 += (v1 >> 4) * x[xl + 33 + l];
          }
          const s0 = 2 * g;
          a = fround(a + fround(ds[s0] * fround(lo0 + lo1) - ms[s0] * xs[sb + s0]));
          a = fround(a + fround(ds[s0 + 1] * fround(hi0 + hi1) - ms[s0 + 1] * xs[sb + s0 + 1]));
        }
        acc[r] = a;
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

function q5_k(
  data: Uint8Array,
  rows: number,
  k: number,
  x: Float32Array,
  xs: Float32Array,
  m: number,
  out: Float32Array,
  acc: Float64Array,
) {
  const nb = k >> 8;
  const g32 = k >> 5;
  const sc = new Int32Array(8);
  const mn = new Int32Array(8);
  const ds = new Float64Array(8);
  const ms = new Float64Array(8);
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    let o = j * nb * 176;
    for (let b = 0; b < nb; b++, o += 176) {
      const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
      const dmin = FP16_TABLE[data[o + 2] | (data[o + 3] << 8)];
      kScales(data, o + 4, sc, mn);
      for (let s = 0; s < 8; s++) {
        ds[s] = fround(d * sc[s]);
        ms[s] = fround(dmin * mn[s]);
      }
      const qh = o + 16;
      const q = o + 48;
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 256;
        const sb = r * g32 + b * 8;
        let a = acc[r];
        for (let g = 0; g < 4; g++) {
          const qg = q + 32 * g;
          const xl = xb + 64 * g;
          const sh = 2 * g;
          let lo = 0;
          let hi = 0;
          for (let l = 0; l < 32; l++) {
            const v = data[qg + l];
            const h = data[qh + l] >> sh;
            lo += ((v & 15) | ((h & 1) << 4)) * x[xl + l];
            hi += ((v >> 4) | ((h & 2) << 3)) * x[xl + 32 + l];
          }
          a = fround(a + fround(ds[sh] * fround(lo) - ms[sh] * xs[sb + sh]));
          a = fround(a + fround(ds[sh + 1] * fround(hi) - ms[sh + 1] * xs[sb + sh + 1]));
        }
        acc[r] = a;
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

function q6_k(
  data: Uint8Array,
  rows: number,
  k: number,
  x: Float32Array,
  m: number,
  out: Float32Array,
  acc: Float64Array,
) {
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

/** F32 / F16 / BF16: the row is widened to float32 once, then dotted in 32-element float64 chunks. */
function plain(
  type: number,
  data: Uint8Array,
  rows: number,
  k: number,
  x: Float32Array,
  m: number,
  out: Float32Array,
) {
  const w = new Float32Array(k);
  const bytes = type === 0 ? 4 : 2;
  const tab = type === 1 ? FP16_TABLE : type === 30 ? bf16Tab() : null;
  const f32 =
    type === 0 && data.byteOffset % 4 === 0
      ? new Float32Array(data.buffer, data.byteOffset, data.byteLength >> 2)
      : null;
  for (let j = 0; j < rows; j++) {
    const o = j * k * bytes;
    if (f32) w.set(f32.subarray(j * k, (j + 1) * k));
    else if (tab) for (let i = 0; i < k; i++) w[i] = tab[data[o + 2 * i] | (data[o + 2 * i + 1] << 8)];
    else w.set(new Float32Array(data.slice(o, o + 4 * k).buffer));
    for (let r = 0; r < m; r++) {
      const xb = r * k;
      let a = 0;
      let i = 0;
      for (; i + 32 <= k; i += 32) {
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
      if (i < k) {
        let s = 0;
        for (; i < k; i++) s += w[i] * x[xb + i];
        a = fround(a + fround(s));
      }
      out[r * rows + j] = a;
    }
  }
}

/**
 * Decodes one block (or super-block) at byte offset `o` for the SIMD kernel: integer weights go to
 * q[qo + 4*l] and the float32 sub-block scales / mins to ds[so + 4*s] / ms[so + 4*s] (0 where the format
 * has no min); the stride 4 interleaves four weight rows.
 */
type Decoder = (
  data: Uint8Array,
  qi: Int8Array,
  o: number,
  q: Float32Array,
  qo: number,
  sc: Float32Array,
  dso: number,
  mso: number,
) => void;

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

function decQ8_0(
  data: Uint8Array,
  qi: Int8Array,
  o: number,
  q: Float32Array,
  qo: number,
  sc: Float32Array,
  dso: number,
  mso: number,
) {
  sc[dso] = FP16_TABLE[data[o] | (data[o + 1] << 8)];
  sc[mso] = 0;
  for (let l = 0; l < 32; l++) q[qo + 4 * l] = qi[o + 2 + l];
}

const kSc = new Int32Array(8);
const kMn = new Int32Array(8);

function decQ4_K(
  data: Uint8Array,
  _qi: Int8Array,
  o: number,
  q: Float32Array,
  qo: number,
  sc: Float32Array,
  dso: number,
  mso: number,
) {
  const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
  const dmin = FP16_TABLE[data[o + 2] | (data[o + 3] << 8)];
  kScales(data, o + 4, kSc, kMn);
  for (let s = 0; s < 8; s++) {
    sc[dso + 4 * s] = d * kSc[s]; // exact in float32 (11 x 6 bits): the store does not round
    sc[mso + 4 * s] = dmin * kMn[s];
  }
  for (let g = 0; g < 4; g++) {
    const b = o + 16 + 32 * g;
    const t = qo + 256 * g;
    for (let l = 0; l < 32; l++) {
      const v = data[b + l];
      q[t + 4 * l] = v & 15;
      q[t + 128 + 4 * l] = v >> 4;
    }
  }
}

function decQ5_K(
  data: Uint8Array,
  _qi: Int8Array,
  o: number,
  q: Float32Array,
  qo: number,
  sc: Float32Array,
  dso: number,
  mso: number,
) {
  const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
  const dmin = FP16_TABLE[data[o + 2] | (data[o + 3] << 8)];
  kScales(data, o + 4, kSc, kMn);
  for (let s = 0; s < 8; s++) {
    sc[dso + 4 * s] = d * kSc[s];
    sc[mso + 4 * s] = dmin * kMn[s];
  }
  for (let g = 0; g < 4; g++) {
    const b = o + 48 + 32 * g;
    const t = qo + 256 * g;
    const sh = 2 * g;
    for (let l = 0; l < 32; l++) {
      const v = data[b + l];
      const h = data[o + 16 + l] >> sh;
      q[t + 4 * l] = (v & 15) | ((h & 1) << 4);
      q[t + 128 + 4 * l] = (v >> 4) | ((h & 2) << 3);
    }
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

interface Shape {
  dec: Decoder;
  /** elements and bytes per (super-)block, elements per sub-block */
  E: number;
  B: number;
  S: number;
  /** has a min per sub-block (uses the activation sums) */
  mins: boolean;
}

/** 8 consecutive 32-element blocks handled as one 256-element super-block (fewer, longer steps). */
function grouped(sh: Shape): Shape {
  const { dec, B } = sh;
  const dec8: Decoder = (data, qi, o, q, qo, sc, dso, mso) => {
    for (let g = 0; g < 8; g++) dec(data, qi, o + g * B, q, qo + 128 * g, sc, dso + 4 * g, mso + 4 * g);
  };
  return { dec: dec8, E: 256, B: 8 * B, S: 32, mins: sh.mins };
}

const SHAPES: Record<number, Shape> = {
  2: { dec: decQ4_0, E: 32, B: 18, S: 32, mins: false },
  8: { dec: decQ8_0, E: 32, B: 34, S: 32, mins: false },
  12: { dec: decQ4_K, E: 256, B: 144, S: 32, mins: true },
  13: { dec: decQ5_K, E: 256, B: 176, S: 32, mins: true },
  14: { dec: decQ6_K, E: 256, B: 210, S: 16, mins: false },
};

/**
 * m >= SIMD_FROM_M with WebAssembly SIMD: four weight rows at a time are decoded into the kernel's
 * memory, interleaved, and ./cpu-simd.ts runs all m activation rows over them (the decode is shared by
 * all m rows). Returns false (nothing done) where SIMD is unavailable.
 */
function simdRows(
  sh0: Shape,
  data: Uint8Array,
  rows: number,
  k: number,
  x: Float32Array,
  xs: Float32Array | null,
  m: number,
  out: Float32Array,
): boolean {
  const kern = simdTile();
  if (!kern) return false;
  const sh = sh0.E === 32 && k % 256 === 0 ? grouped(sh0) : sh0;
  const { dec, E, B, S } = sh;
  const nb = k / E;
  const nsub = E / S;
  const NS = k / S;
  const rb = nb * B;
  const g32 = k >> 5;
  // byte layout of the kernel memory
  const Q = 0;
  const DS = Q + 16 * k;
  const MS = DS + 16 * NS;
  const X = MS + 16 * NS;
  const XS = X + 4 * m * k;
  const OUT = XS + 4 * m * g32;
  const total = OUT + 16 * m;
  if (total > 1 << 30) return false; // keep wasm32 addresses small; the inline loops take any size
  const have = kern.memory.buffer.byteLength;
  if (have < total) kern.memory.grow(Math.ceil((total - have) / 65536));
  const f = new Float32Array(kern.memory.buffer);
  f.set(x.subarray(0, m * k), X >> 2);
  if (xs) f.set(xs.subarray(0, m * g32), XS >> 2);
  else f.fill(0, XS >> 2, (XS >> 2) + m * g32);
  const qi = new Int8Array(data.buffer, data.byteOffset, data.byteLength);
  const o4 = OUT >> 2;
  for (let j = 0; j < rows; j += 4) {
    for (let u = 0; u < 4; u++) {
      const row = j + u < rows ? j + u : rows - 1;
      for (let b = 0; b < nb; b++) {
        const so = 4 * b * nsub + u;
        dec(data, qi, row * rb + b * B, f, (Q >> 2) + 4 * b * E + u, f, (DS >> 2) + so, (MS >> 2) + so);
      }
    }
    kern.tile(Q, DS, MS, X, XS, OUT, k, m, S, NS);
    for (let r = 0; r < m; r++) {
      for (let u = 0; u < 4 && j + u < rows; u++) out[r * rows + j + u] = f[o4 + 4 * r + u];
    }
  }
  return true;
}
