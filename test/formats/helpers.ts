/** Byte-level block builders for the format tests: every block is written by hand from docs/formats.md. */
import { dequantize } from '../../src-main/engine/formats';

export const H_ONE = 0x3c00; // 1.0
export const H_HALF = 0x3800; // 0.5
export const H_TWO = 0x4000; // 2.0
export const H_MINUS_ONE = 0xbc00; // -1.0
export const H_MINUS_TWO = 0xc000; // -2.0
export const H_QUARTER = 0x3400; // 0.25
export const H_NAN = 0x7e00;
export const H_INF = 0x7c00;

export function putHalf(b: Uint8Array, off: number, h: number): void {
  b[off] = h & 255;
  b[off + 1] = h >> 8;
}

/** Dequantize one block (one row of blockElems) of the given type. */
export function deq(typeId: number, block: Uint8Array, elems: number): Float32Array {
  return dequantize(typeId, block, 1, elems);
}

/** Indices where two arrays differ (compared as float32 values, NaN equal to NaN). */
export function diffIdx(a: Float32Array, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = Math.fround(b[i]);
    if (!(Object.is(x, y) || (x === 0 && y === 0) || (Number.isNaN(x) && Number.isNaN(y)))) out.push(i);
  }
  return out;
}

/** Q4_K / Q5_K: write the 6-bit scale sc and min m of sub-block j (0..7) into scales[12] at off. */
export function putScaleMin(b: Uint8Array, off: number, j: number, sc: number, m: number): void {
  const s = (i: number) => off + i;
  if (j < 4) {
    b[s(j)] = (b[s(j)] & 0xc0) | sc;
    b[s(j + 4)] = (b[s(j + 4)] & 0xc0) | m;
  } else {
    b[s(j + 4)] = (sc & 15) | ((m & 15) << 4);
    b[s(j - 4)] = (b[s(j - 4)] & 0x3f) | ((sc >> 4) << 6);
    b[s(j)] = (b[s(j)] & 0x3f) | ((m >> 4) << 6);
  }
}

/** Standard-normal float32 samples from a small self-contained generator (seeded, reproducible). */
export function normals(count: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u()));
    const t = 2 * Math.PI * u();
    out[i] = r * Math.cos(t);
    if (i + 1 < count) out[i + 1] = r * Math.sin(t);
  }
  return out;
}
