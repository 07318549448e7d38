/**
 * A quantized row taken apart into its per-element fields, so that a wrong weight can be explained
 * (the diagnosis tries one defect at a time by recombining them):
 *   w[i] = s[i] * (q[i] - qoff) - c[i]
 * q is the stored integer with every bit the format keeps for it (Q4_0 nibble 0..15, Q8_0 int8, Q5_K
 * 5 bits, Q6_K 6 bits, Q3_K 2 bits + 4 * hmask bit, IQ4 the non-linear level), lo[i] the part stored in
 * the low bits of a packed array (a nibble; the 2 low bits of Q2_K/Q3_K; the IQ4 index), s the element's
 * multiplier (d, or d * its sub-block scale, rounded as the format's dequantization rounds it), c the
 * subtracted term (dmin * min for K-quants; -m for Q4_1/Q5_1 whose minimum is added), sub the index of
 * its scale sub-block within the block, and partner[i] the element stored in the other nibble of the
 * same byte (-1 when elements do not share bytes by nibbles).
 *
 * Each FormatSpec with quantized blocks carries one `fields` entry: the decoder and the traits that say
 * which defect hypotheses apply to the format (./spec.ts).
 */
import { FP16_TABLE } from './half';

export interface RowFields {
  q: Int32Array;
  lo: Int32Array;
  s: Float64Array;
  c: Float64Array;
  sub: Int32Array;
  partner: Int32Array;
  /** the integer subtracted from q: 8 (Q4_0), 16 (Q5_0), 32 (Q6_K), 4 (Q3_K), else 0 */
  qoff: number;
  /** non-linear formats: q = levels[lo] (IQ4's 16 levels); null where q is lo plus its high bits */
  levels: ArrayLike<number> | null;
  /** per element: (s, c) of every scale sub-block of its block, in sub-block order */
  blockScales: (i: number) => { s: number; c: number }[];
  /** elements per block and per scale sub-block */
  blockElems: number;
  subElems: number;
}

/** Which defect hypotheses make sense for a format, with the words the diagnosis uses for them. */
export interface FieldTraits {
  /** two elements share each byte, one per nibble (nibble-order) */
  nibbles: boolean;
  /** q read as unsigned although it is signed (Q8_0) */
  signedBytes?: boolean;
  /** what is missing when the value is s * q: the sentence for offset-missing */
  offset?: string;
  /** the format has a minimum whose sign can be flipped (min-sign) */
  minSign?: boolean;
  /** the high bits kept outside the packed array, e.g. 'the fifth bit from qh' (high-bits) */
  highBits?: string;
  /** several scale sub-blocks per block (scale-index) */
  subScales?: boolean;
}

export interface FieldsSpec {
  /** the fields of the k elements of the row at byte offset `off` */
  decode: (data: Uint8Array, off: number, k: number) => RowFields;
  traits: FieldTraits;
}

/** Zeroed fields for k elements; `partner` starts at -1 (no nibble partner). */
export function newFields(
  k: number,
  blockElems: number,
  subElems: number,
  qoff: number,
  levels: ArrayLike<number> | null = null,
): RowFields {
  return {
    q: new Int32Array(k),
    lo: new Int32Array(k),
    s: new Float64Array(k),
    c: new Float64Array(k),
    sub: new Int32Array(k),
    partner: new Int32Array(k).fill(-1),
    qoff,
    levels,
    blockScales: () => [],
    blockElems,
    subElems,
  };
}

/** Where a 32-element block keeps its fields (byte offsets inside the block). */
export interface NibbleBlockLayout {
  /** bytes per block */
  bytes: number;
  /** the half minimum m, added (Q4_1, Q5_1) */
  min?: number;
  /** the 32 fifth bits (Q5_0, Q5_1) */
  qh?: number;
  /** the 16 bytes of nibbles: element j is the low nibble of byte j, element j + 16 the high one */
  qs: number;
  qoff: number;
  /** non-linear levels (IQ4_NL) */
  levels?: ArrayLike<number>;
}

/**
 * The fields of a row of 32-element blocks with a half scale d at byte 0 and 16 bytes of nibbles
 * (Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL): w = d * (q - qoff) - c, c = -m where a minimum is added.
 */
export function nibbleBlockFields(data: Uint8Array, off: number, k: number, L: NibbleBlockLayout): RowFields {
  const f = newFields(k, 32, 32, L.qoff, L.levels ?? null);
  const half = (o: number) => FP16_TABLE[data[o] | (data[o + 1] << 8)];
  for (let b = 0; b < k / 32; b++) {
    const o = off + b * L.bytes;
    const d = half(o);
    const c = L.min === undefined ? 0 : -half(o + L.min);
    const qh =
      L.qh === undefined
        ? 0
        : (data[o + L.qh] |
            (data[o + L.qh + 1] << 8) |
            (data[o + L.qh + 2] << 16) |
            (data[o + L.qh + 3] << 24)) >>>
          0;
    for (let j = 0; j < 16; j++) {
      const v = data[o + L.qs + j];
      const i = b * 32 + j;
      f.lo[i] = v & 15;
      f.lo[i + 16] = v >> 4;
      for (const e of [i, i + 16]) {
        const hb = (qh >>> (e - b * 32)) & 1;
        f.q[e] = L.levels ? L.levels[f.lo[e]] : f.lo[e] | (hb << 4);
        f.s[e] = d;
        f.c[e] = c;
      }
      pair(f, i, i + 16);
    }
  }
  return f;
}

/** Marks elements i and p as the two nibbles of one byte. */
export function pair(f: RowFields, i: number, p: number): void {
  f.partner[i] = p;
  f.partner[p] = i;
}
