// The cold read ceiling at a given size: how much of the device-to-device copy bandwidth (256 MiB
// copies, as `quantscope bench` measures it) a pure read of S bytes reaches when S is not in the L2,
// for the weight sizes of the 12 formats at n = 4096, k = 14336. Each call reads the next of enough
// copies to span 3x the L2; calls are queued behind a spinning kernel so host launch gaps do not count
// (the cold protocol of bench). Variants: the best pure-read kernel of a few launch shapes, the same
// read chained with programmatic dependent launch (as the matmul kernels chain their calls), that read
// preceded by an empty kernel (one hand-over per call, as the quantizer's), and a device-to-device copy
// of S / 2 bytes (S bytes moved). An experiment; build: nvcc -O3 -arch=sm_90 -o read-ceiling read-ceiling.cu
#include <cuda_runtime.h>
#include <algorithm>
#include <cstdio>
#include <vector>

#define CK(x)                                                                            \
  do {                                                                                   \
    cudaError_t e_ = (x);                                                                \
    if (e_ != cudaSuccess) {                                                             \
      fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
      exit(1);                                                                           \
    }                                                                                    \
  } while (0)

__global__ void spin(long long cycles) {
  long long t0 = clock64();
  while (clock64() - t0 < cycles) {
  }
}
__global__ void empty() {}

// U 16-byte loads in flight per thread per step, grid-stride over n16 16-byte words. Chain: the next
// launch may start as soon as this one's blocks retire (programmatic dependent launch, as the matmul
// kernels chain their calls), so a chain of reads has no launch gap between them.
template <int U, bool Chain = false>
__global__ void readk(const uint4* __restrict__ p, long long n16, unsigned* out) {
  if (Chain) asm volatile("griddepcontrol.launch_dependents;");
  unsigned acc = 0;
  const long long stride = (long long)gridDim.x * blockDim.x;
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  for (; i + (U - 1) * stride < n16; i += U * stride) {
    uint4 v[U];
#pragma unroll
    for (int j = 0; j < U; j++) v[j] = __ldcs(p + i + j * stride);
#pragma unroll
    for (int j = 0; j < U; j++) acc ^= v[j].x ^ v[j].y ^ v[j].z ^ v[j].w;
  }
  for (; i < n16; i += stride) {
    uint4 v = __ldcs(p + i);
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x9e3779b9u) *out = acc;
}
template <int U>
static void launchPdl(int grid, int threads, const uint4* p, long long n16, unsigned* out) {
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = grid;
  cfg.blockDim = threads;
  cudaLaunchAttribute at[1];
  at[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  at[0].val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = at;
  cfg.numAttrs = 1;
  CK(cudaLaunchKernelEx(&cfg, readk<U, true>, p, n16, out));
}

// contiguous chunks: block b reads [b * chunk, (b + 1) * chunk), U loads in flight
template <int U>
__global__ void readc(const uint4* __restrict__ p, long long n16, unsigned* out) {
  unsigned acc = 0;
  const long long chunk = (n16 + gridDim.x - 1) / gridDim.x;
  const long long a = (long long)blockIdx.x * chunk, e = min(a + chunk, n16);
  long long i = a + threadIdx.x;
  for (; i + (U - 1) * blockDim.x < e; i += U * blockDim.x) {
    uint4 v[U];
#pragma unroll
    for (int j = 0; j < U; j++) v[j] = __ldcs(p + i + j * blockDim.x);
#pragma unroll
    for (int j = 0; j < U; j++) acc ^= v[j].x ^ v[j].y ^ v[j].z ^ v[j].w;
  }
  for (; i < e; i += blockDim.x) {
    uint4 v = __ldcs(p + i);
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x9e3779b9u) *out = acc;
}

static int g_sms;
static long long g_clk;

// median per-call microseconds of `batches` batches of `per` calls, each call given the next copy
template <class F>
static double timeCalls(F call, int ncopies, int per, int batches) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  std::vector<double> t;
  int rot = 0;
  for (int i = 0; i < batches + 2; i++) {
    spin<<<1, 1>>>(g_clk * 3); // ~3 ms of queue time (the clock rate is in kHz: cycles per ms)
    CK(cudaEventRecord(a));
    for (int j = 0; j < per; j++) call(rot++ % ncopies);
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    float ms;
    CK(cudaEventElapsedTime(&ms, a, b));
    if (i >= 2) t.push_back(ms * 1000.0 / per);
  }
  CK(cudaGetLastError());
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int main() {
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, 0));
  g_sms = prop.multiProcessorCount;
  int clkKHz = 0;
  CK(cudaDeviceGetAttribute(&clkKHz, cudaDevAttrClockRate, 0));
  g_clk = clkKHz;
  printf("device %s, %d SMs, L2 %d MiB\n", prop.name, g_sms, prop.l2CacheSize >> 20);
  unsigned* out;
  CK(cudaMalloc(&out, 4));
  // the copy bandwidth as bench measures it: 256 MiB device-to-device copies, batches of 8
  const size_t big = 256ull << 20;
  void *ba, *bb;
  CK(cudaMalloc(&ba, big));
  CK(cudaMalloc(&bb, big));
  CK(cudaMemset(ba, 1, big));
  double copyUs = timeCalls([&](int) { CK(cudaMemcpyAsync(bb, ba, big, cudaMemcpyDeviceToDevice)); }, 1, 8, 5);
  const double copyGBs = 2.0 * big / (copyUs * 1e3);
  printf("copy bandwidth (256 MiB D2D): %.0f GB/s\n", copyGBs);
  CK(cudaFree(ba));
  CK(cudaFree(bb));
  struct Fmt {
    const char* name;
    int bytesPer256;
  } fmts[] = {{"q2_k", 84},  {"q3_k", 110}, {"iq4_xs", 136}, {"q4_0", 144}, {"q4_1", 160},
              {"q5_0", 176}, {"q5_k", 176}, {"q5_1", 192},   {"q6_k", 210}, {"q8_0", 272}};
  const long long nk = 4096ll * 14336;
  printf("%-7s %7s | %-22s %9s %6s | %-14s %9s %6s | %9s %6s | %9s %6s\n", "format", "MB", "best read (shape)", "us",
         "%copy", "chained (PDL)", "us", "%copy", "+handovr", "%copy", "D2D S/2", "%copy");
  for (auto& f : fmts) {
    const size_t S = (size_t)(nk / 256 * f.bytesPer256);
    const size_t span = 3 * (size_t)prop.l2CacheSize;
    const int ncopies = (int)std::max<size_t>(2, (span + S - 1) / S);
    std::vector<char*> c(ncopies);
    for (auto& p : c) {
      CK(cudaMalloc(&p, S));
      CK(cudaMemset(p, 3, S));
    }
    const long long n16 = S / 16;
    const int per = std::max(ncopies, 200 / ncopies * ncopies);
    double best = 1e30;
    char bestName[64] = "";
    auto tryShape = [&](const char* nm, int blocksPerSM, int threads, auto kern) {
      const int grid = g_sms * blocksPerSM;
      double us = timeCalls([&](int r) { kern<<<grid, threads>>>((const uint4*)c[r], n16, out); }, ncopies, per, 7);
      if (us < best) {
        best = us;
        snprintf(bestName, sizeof bestName, "%s %dx%d", nm, blocksPerSM, threads);
      }
      return us;
    };
    for (int bps : {1, 2, 4, 8})
      for (int th : {256, 512}) {
        if (bps * th > 2048) continue;
        tryShape("s2", bps, th, readk<2>);
        tryShape("s4", bps, th, readk<4>);
        tryShape("s8", bps, th, readk<8>);
        tryShape("c4", bps, th, readc<4>);
      }
    // chained reads (programmatic dependent launch), the best of a few shapes
    double pdl = 1e30;
    char pdlName[64] = "";
    for (int bps : {2, 4, 8})
      for (int th : {256, 512})
        for (int u : {2, 4}) {
          if (bps * th > 2048) continue;
          const int grid = g_sms * bps;
          const double us = timeCalls(
              [&](int r) {
                if (u == 2) launchPdl<2>(grid, th, (const uint4*)c[r], n16, out);
                else launchPdl<4>(grid, th, (const uint4*)c[r], n16, out);
              },
              ncopies, per, 7);
          if (us < pdl) {
            pdl = us;
            snprintf(pdlName, sizeof pdlName, "p%d %dx%d", u, bps, th);
          }
        }
    // the best shape again behind an empty kernel per call (a hand-over like the quantizer's)
    double withEmpty = 1e30;
    for (int bps : {2, 4})
      withEmpty = std::min(withEmpty, timeCalls(
                                          [&](int r) {
                                            empty<<<1, 32>>>();
                                            readk<4><<<g_sms * bps, 512>>>((const uint4*)c[r], n16, out);
                                          },
                                          ncopies, per, 7));
    // a copy moving S bytes (S / 2 read, S / 2 written), into a buffer of the rotation
    const double d2d = timeCalls(
        [&](int r) { CK(cudaMemcpyAsync(c[(r + 1) % ncopies] + S / 2, c[r], S / 2, cudaMemcpyDeviceToDevice)); },
        ncopies, per, 7);
    const double MB = S / 1e6;
    auto pct = [&](double us) { return 100.0 * (S / (us * 1e3)) / copyGBs; };
    printf("%-7s %7.2f | %-22s %9.2f %5.0f%% | %-14s %9.2f %5.0f%% | %9.2f %5.0f%% | %9.2f %5.0f%%\n", f.name, MB,
           bestName, best, pct(best), pdlName, pdl, pct(pdl), withEmpty, pct(withEmpty), d2d, pct(d2d));
    fflush(stdout);
    for (auto p : c) CK(cudaFree(p));
  }
  return 0;
}
