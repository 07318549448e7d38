// A user-style Q4_0 kernel for the Q4_0_MATMUL_CUBIN contract (symbol q4_0_matmul_kernel, arguments
// (x, w, y, m, n, k), launched with m blocks of 256 threads, no dynamic shared memory). Deliberately
// simple: it exists to check that QuantScope loads, launches and judges a user's code object.
//   nvcc -cubin -arch=sm_90 -o q4_0_matmul.cubin test/gpu/custom/q4_0_matmul.cu
#include <cstdint>
#include <cuda_fp16.h>

extern "C" __global__ void q4_0_matmul_kernel(const float *x, const uint8_t *w, float *y, int m, int n, int k) {
  const int row = blockIdx.x;
  if (row >= m) return;
  const float *xr = x + (size_t)row * k;
  const int nb = k / 32;
  for (int j = threadIdx.x; j < n; j += blockDim.x) {
    const uint8_t *wr = w + (size_t)j * nb * 18;
    float acc = 0.f;
    for (int b = 0; b < nb; b++) {
      const uint8_t *blk = wr + b * 18;
      const float d = __half2float(__ushort_as_half((unsigned short)(blk[0] | (blk[1] << 8))));
      for (int i = 0; i < 16; i++) {
        const int q = blk[2 + i];
        acc += (float)((q & 15) - 8) * d * xr[b * 32 + i] + (float)((q >> 4) - 8) * d * xr[b * 32 + i + 16];
      }
    }
    y[(size_t)row * n + j] = acc;
  }
}
