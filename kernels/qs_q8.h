// QuantScope: activations quantized to 8 bits per 32 elements (the idea of llama.cpp's q8_1), shared by
// the int8 paths (fused-small-q8 for m <= 8 and the int8 matrix-unit path). Layout:
//   xq [m][k]      int8, row stride k bytes (k is a multiple of 32 for every quantized format)
//   xd [m][k/32]   float2 per 32 activations: .x = d = amax / 127 (q = rint(x / d)), .y = the exact
//                  float32 sum of the 32 unquantized activations (for the formats with an offset term)
// A block of 32 with a NaN or an infinity gets d = NaN, so every output it touches is NaN rather than
// silently finite.
#pragma once
#include "qs_format.h"

// The quantizer's rule for one block of 32 with largest magnitude amax (declared as the 'qs8' arithmetic,
// docs/arithmetic.md): the stored scale d = amax / 127 and the multiplier id = 127 / amax (0 for an
// all-zero block), both correctly rounded float32 divisions; q = rint(x * id), ties to even.
__device__ __forceinline__ void qs_q8_scale(float amax, float& d, float& id) {
  d = amax / 127.f;
  id = amax > 0.f ? 127.f / amax : 0.f;
}
__device__ __forceinline__ int qs_q8_round(float v) { return __float2int_rn(v); }

// x [m][k] float32 -> xq, xd (layout above). 8 lanes per block of 32, 4 activations per lane;
// grid-stride over the m*k/4 groups. k % 32 == 0.
QS_EXTERN __global__ void __launch_bounds__(256)
    qs_x_q8(const float* __restrict__ x, qs_i8* __restrict__ xq, float2* __restrict__ xd, int m, int k) {
  QS_GRID_LAUNCH_DEPENDENTS(); // the matmul may start now; it waits for these results itself
#if defined(QS_CUDA) && !defined(QS_XQ_NOPF)
  // ask the L2 for this thread's x before waiting: the load after the wait then finds it there instead of
  // queueing for memory behind the next matmul's weight loads (0.1-0.3 us per m=1 call on an H100). A
  // prefetch reads nothing: the previous kernel's writes land in the L2, so the load still sees them.
  // QS_XQ_NOPF (QS_KERNEL_DEFINES) turns it off.
  {
    const qs_i64 groups = (qs_i64)m * (k / 4);
    for (qs_i64 g = (qs_i64)blockIdx.x * blockDim.x + threadIdx.x; g < groups; g += (qs_i64)gridDim.x * blockDim.x)
      if ((g & 7) == 0) asm volatile("prefetch.global.L2 [%0];" ::"l"((const float4*)x + g));
  }
#endif
  // launched with the overlap option, this kernel may start while the previous kernel of the stream (the
  // previous call's matmul, which may read xq) still runs: read x and write xq, xd only once it is done
  QS_GRID_WAIT();
#ifdef QS_XQ_NOP
  return; // diagnostic (QS_KERNEL_DEFINES=QS_XQ_NOP): the launch without the work; results are wrong
#endif
  const qs_i64 groups = (qs_i64)m * (k / 4);
  // every lane of a wave runs the same number of iterations (the shuffles need all 8 lanes of a block)
  const qs_i64 stride = (qs_i64)gridDim.x * blockDim.x;
  for (qs_i64 base = (qs_i64)blockIdx.x * blockDim.x; base < groups; base += stride) {
    const qs_i64 g = base + threadIdx.x;
    const bool live = g < groups; // groups is a multiple of 8: a block's 8 lanes are all live or none
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
    if (live) v = ((const float4*)x)[g];
    float amax = fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w)));
    float sum = (v.x + v.y) + (v.z + v.w);
    // non-finite input: x - x is NaN for NaN and for +-inf
    float bad = (v.x - v.x) + (v.y - v.y) + (v.z - v.z) + (v.w - v.w);
#pragma unroll
    for (int o = 4; o > 0; o >>= 1) {
      amax = fmaxf(amax, QS_SHFL_XOR(amax, o));
      sum += QS_SHFL_XOR(sum, o);
      bad += QS_SHFL_XOR(bad, o);
    }
    if (!live) continue;
    float d, id;
    qs_q8_scale(amax, d, id);
    const int q0 = qs_q8_round(v.x * id), q1 = qs_q8_round(v.y * id);
    const int q2 = qs_q8_round(v.z * id), q3 = qs_q8_round(v.w * id);
    ((int*)xq)[g] = (q0 & 0xff) | ((q1 & 0xff) << 8) | ((q2 & 0xff) << 16) | ((qs_u32)(q3 & 0xff) << 24);
    if ((g & 7) == 0) xd[g >> 3] = make_float2(bad == 0.f ? d : __int_as_float(0x7fc00000), sum);
  }
}
