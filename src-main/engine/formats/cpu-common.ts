/**
 * Small helpers shared by the formats' cpu-backend kernels (the `cpu` hooks of their FormatSpecs).
 * The kernels decode each block to its small integers and float32 sub-block scales (no dequantized
 * float weight buffer), the way the GPU kernels work, and accumulate in float32:
 * - inside a sub-block (16 or 32 elements) the integer-weight products q*x are summed (float64 in the
 *   JS loops), then rounded to float32;
 * - each sub-block's scaled contribution is rounded to float32 and added to a float32 accumulator.
 */

/** The activation sums per 32 elements, or a one-line error when the caller did not pass them. */
export function needSums(xs: Float32Array | null): Float32Array {
  if (!xs) throw new Error('cpu-rows: activation sums missing');
  return xs;
}

/** 6-bit scales and mins of the 8 sub-blocks of a Q4_K / Q5_K block (get_scale_min_k4). */
export function kScales(data: Uint8Array, s: number, sc: Int32Array, mn: Int32Array): void {
  for (let j = 0; j < 4; j++) {
    sc[j] = data[s + j] & 63;
    mn[j] = data[s + j + 4] & 63;
  }
  for (let j = 4; j < 8; j++) {
    sc[j] = (data[s + j + 4] & 15) | ((data[s + j - 4] >> 6) << 4);
    mn[j] = (data[s + j + 4] >> 4) | ((data[s + j] >> 6) << 4);
  }
}
