/**
 * The cpu backend's fused dot products: each format's blocks are decoded to their small integers and
 * per-sub-block float32 scales (no dequantized float weight buffer), the way the GPU kernels work,
 * with float32 accumulation:
 * - inside a sub-block (16 or 32 elements) the integer-weight products q*x are summed, then rounded to
 *   float32 (m = 1, and formats without a SIMD shape: summed in float64 by the per-format JS loops of
 *   their spec's `cpu.rows`; m >= 2: summed in float32 lanes by the WebAssembly SIMD kernel of
 *   ./cpu-simd.ts from the spec's `cpu.simd` decoder, four weight rows and two activation rows at a time);
 * - each sub-block's scaled contribution is rounded to float32 and added to a float32 accumulator.
 * Formats with a min use the llama.cpp "bsums" trick: d*sc*sum(q*x) - dmin*m*sum(x), with sum(x) per
 * 32 elements precomputed once per activation row (xsums) where the spec asks for them.
 * The per-format loops live with each format in formats/ (see formats/registry.ts); this module
 * dispatches on the registry and runs the shared SIMD tiling.
 *
 * Hand-written: these are the CPU counterparts of kernels/*.cu; nothing off the shelf computes GGUF
 * block formats.
 */
import { FORMATS, formatSpec, type CpuDecoder, type CpuSimdShape } from '../formats';
import { simdTile } from './cpu-simd';

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
  /** float32 [m][k/32] sums of x per 32 elements (formats whose spec sets cpu.xsums, else null) */
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

/** Types this module computes: every registered format. */
export const CPU_TYPES: ReadonlySet<number> = new Set(FORMATS.map((f) => f.id));

/** Whether the type's kernel reads the activation sums per 32 elements (cpuRows' xsums). */
export function needsActivationSums(type: number): boolean {
  return formatSpec(type)?.cpu.xsums ?? false;
}

/** Computes out[r * rows + j] = y[r][j] (float32) for the rows of the payload. */
export function cpuRows(p: CpuRowsPayload): Float32Array {
  const { type, k, rows, m } = p;
  const spec = formatSpec(type);
  if (!spec) throw new Error(`cpu backend: type ${type} is not supported`);
  const x = new Float32Array(p.x, 0, m * k);
  const out = new Float32Array(m * rows);
  const xs = p.xsums ? new Float32Array(p.xsums, 0, m * (k >> 5)) : null;
  const sh = m >= SIMD_FROM_M ? spec.cpu.simd : undefined;
  if (sh && (!sh.mins || xs) && simdRows(sh, p.data, rows, k, x, sh.mins ? xs : null, m, out)) return out;
  if (spec.cpu.xsums && !xs) throw new Error('cpu-rows: activation sums missing');
  spec.cpu.rows(p.data, rows, k, x, xs, m, out, new Float64Array(m));
  return out;
}

type Shape = CpuSimdShape;

/** 8 consecutive 32-element blocks handled as one 256-element super-block (fewer, longer steps). */
function grouped(sh: Shape): Shape {
  const { dec, B } = sh;
  const dec8: CpuDecoder = (data, qi, o, q, qo, sc, dso, mso) => {
    for (let g = 0; g < 8; g++) dec(data, qi, o + g * B, q, qo + 128 * g, sc, dso + 4 * g, mso + 4 * g);
  };
  return { dec: dec8, E: 256, B: 8 * B, S: 32, mins: sh.mins };
}

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
