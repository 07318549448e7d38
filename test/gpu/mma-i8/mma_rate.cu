// Microbenchmark: mma.sync issue rate on this GPU (independent accumulators, no memory traffic).
//   nvcc -O3 -gencode=arch=compute_90,code=sm_90 test/gpu/mma-i8/mma_rate.cu -o /tmp/mma_rate && /tmp/mma_rate
#include <cuda_runtime.h>
#include <cstdio>
template <int KIND>
__global__ void __launch_bounds__(256) bench(int iters, int* out) {
  int c[8][4];
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 4; j++) c[i][j] = threadIdx.x + i + j;
  unsigned a0 = threadIdx.x * 3u, a1 = a0 ^ 5u, a2 = a0 + 7u, a3 = a0 * 9u, b0 = a0 ^ 0x1234u, b1 = a0 + 0x77u;
  for (int it = 0; it < iters; it++) {
#pragma unroll
    for (int i = 0; i < 8; i++) {
      if (KIND == 0)
        asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                     : "+r"(c[i][0]), "+r"(c[i][1]), "+r"(c[i][2]), "+r"(c[i][3])
                     : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
      else if (KIND == 1)
        asm volatile("mma.sync.aligned.m16n8k16.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};"
                     : "+r"(c[i][0]), "+r"(c[i][1]), "+r"(c[i][2]), "+r"(c[i][3])
                     : "r"(a0), "r"(a1), "r"(b0));
      else if (KIND == 2)
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                     : "+r"(c[i][0]), "+r"(c[i][1]), "+r"(c[i][2]), "+r"(c[i][3])
                     : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
      else
        asm volatile("mma.sync.aligned.m16n8k4.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};"
                     : "+r"(c[i][0]), "+r"(c[i][1]), "+r"(c[i][2]), "+r"(c[i][3])
                     : "r"(a0), "r"(a1), "r"(b0));
    }
  }
  int s = 0;
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 4; j++) s += c[i][j];
  if (s == 0x7fffffff) out[0] = s;
}
template <int KIND>
void run(const char* name, double macs) {
  int* out;
  cudaMalloc(&out, 4);
  int nsm;
  cudaDeviceGetAttribute(&nsm, cudaDevAttrMultiProcessorCount, 0);
  const int iters = 4096, blocks = nsm * 4;
  bench<KIND><<<blocks, 256>>>(16, out);
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0), cudaEventCreate(&e1);
  cudaEventRecord(e0);
  bench<KIND><<<blocks, 256>>>(iters, out);
  cudaEventRecord(e1);
  cudaEventSynchronize(e1);
  float ms;
  cudaEventElapsedTime(&ms, e0, e1);
  const double n = (double)blocks * 8 * iters * 8; // warps * iters * 8 mma
  printf("%-28s %8.1f T(MAC*2)/s  (%.3f us)\n", name, 2.0 * n * macs / (ms * 1e-3) / 1e12, ms * 1e3);
  cudaFree(out);
}
int main() {
  run<0>("mma m16n8k32 s8", 16 * 8 * 32);
  run<1>("mma m16n8k16 s8", 16 * 8 * 16);
  run<2>("mma m16n8k16 bf16", 16 * 8 * 16);
  run<3>("mma m16n8k4 tf32", 16 * 8 * 4);
  return 0;
}
