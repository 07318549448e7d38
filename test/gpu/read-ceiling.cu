// The cold read ceiling at a given size: how much of the device-to-device copy bandwidth (256 MiB
// copies, as `quantscope bench` measures it) a pure read of S bytes reaches when S is not in the L2,
// for the weight sizes of the 12 formats at n = 4096, k = 14336. Each call reads the next of enough
// copies to span 3x the L2; calls are queued behind a spinning kernel so host launch gaps do not count
// (the cold protocol of bench). Variants: the best pure-read kernel of a few launch shapes, the same
// read chained with programmatic dependent launch (as the matmul kernels chain their calls), that read
// preceded by an empty kernel (one hand-over per call, as the quantizer's), and a device-to-device copy
// of S / 2 bytes (S bytes moved). `read-ceiling dep` times reads that must wait for a kernel before
// them instead (depMain). An experiment; build: nvcc -O3 -arch=sm_90 -std=c++17 -o read-ceiling read-ceiling.cu
#include <cuda_runtime.h>
#include <algorithm>
#include <cstdio>
#include <string>
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
// launches kern with programmatic dependent launch allowed (the next call may start before it ends)
template <class K, class... A>
static void launchPdl(K kern, int grid, int threads, size_t smem, A... args) {
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = grid;
  cfg.blockDim = threads;
  cfg.dynamicSmemBytes = smem;
  cudaLaunchAttribute at[1];
  at[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  at[0].val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = at;
  cfg.numAttrs = 1;
  CK(cudaLaunchKernelEx(&cfg, kern, args...));
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

// A dependent chain, as the matmul calls chain: per call a small kernel standing for the activation
// quantizer (waits for the previous call, writes 16 KB) and a reader that must wait for it before its
// results could be used. How much of the weight stream can run ahead of that wait decides how much of
// the per-call cost stays hidden. Readers:
// - deprd<U, Pre>: grid-stride 16-byte loads, U in flight; with Pre the first U are requested before the
//   wait (as the small kernels request their first unit batch);
// - stagek<Pre>: one contiguous chunk per block streamed into shared memory by bulk copies of `stg`
//   bytes, `ns` stages deep; with Pre the first ns stages are requested before the wait. Its blocks take
//   at most half a multiprocessor's shared memory, so the next call's blocks can be resident and
//   request their first stages while this call's still stream.
__global__ void quantk(unsigned* xo, int nx) {
  asm volatile("griddepcontrol.launch_dependents;");
  asm volatile("griddepcontrol.wait;" ::: "memory");
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < nx; i += gridDim.x * blockDim.x) xo[i] = i * 2654435761u;
}
template <int U, bool Pre>
__global__ void deprd(const uint4* __restrict__ p, long long n16, const unsigned* xq, int nx, unsigned* out) {
  asm volatile("griddepcontrol.launch_dependents;");
  unsigned acc = 0;
  const long long stride = (long long)gridDim.x * blockDim.x;
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  uint4 v[U];
  if (Pre) {
#pragma unroll
    for (int j = 0; j < U; j++) v[j] = i + j * stride < n16 ? __ldcs(p + i + j * stride) : make_uint4(0, 0, 0, 0);
  }
  asm volatile("griddepcontrol.wait;" ::: "memory");
  for (int t = threadIdx.x; t < nx; t += blockDim.x) acc ^= xq[t];
  if (!Pre) {
#pragma unroll
    for (int j = 0; j < U; j++) v[j] = i + j * stride < n16 ? __ldcs(p + i + j * stride) : make_uint4(0, 0, 0, 0);
  }
  for (;;) {
#pragma unroll
    for (int j = 0; j < U; j++) acc ^= v[j].x ^ v[j].y ^ v[j].z ^ v[j].w;
    i += U * stride;
    if (i >= n16) break;
#pragma unroll
    for (int j = 0; j < U; j++) v[j] = i + j * stride < n16 ? __ldcs(p + i + j * stride) : make_uint4(0, 0, 0, 0);
  }
  if (acc == 0x9e3779b9u) *out = acc;
}
__device__ __forceinline__ unsigned smaddr(const void* p) { return (unsigned)__cvta_generic_to_shared(p); }
template <bool Pre>
__global__ void __launch_bounds__(512) stagek(const char* __restrict__ p, long long S, int stg, int ns,
                                              const unsigned* xq, int nx, unsigned* out) {
  extern __shared__ __align__(128) unsigned char sm[];
  asm volatile("griddepcontrol.launch_dependents;");
  const long long chunk = ((S + gridDim.x - 1) / gridDim.x + 15) & ~15ll;
  const long long a = (long long)blockIdx.x * chunk, e = min(a + chunk, S);
  const int nst = e > a ? (int)((e - a + stg - 1) / stg) : 0;
  const unsigned bar0 = smaddr(sm + (size_t)ns * stg);
  if (threadIdx.x == 0) {
    for (int s = 0; s < ns; s++) asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(bar0 + 8 * s) : "memory");
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();
  auto issue = [&](int s) {
    const long long off = a + (long long)s * stg;
    const int bytes = (int)min((long long)stg, e - off);
    const unsigned bar = bar0 + 8 * (s % ns), dst = smaddr(sm + (size_t)(s % ns) * stg);
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes) : "memory");
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(dst),
                 "l"(p + off), "r"(bytes), "r"(bar)
                 : "memory");
  };
  if (Pre && threadIdx.x == 0)
    for (int s = 0; s < min(ns, nst); s++) issue(s);
  asm volatile("griddepcontrol.wait;" ::: "memory");
  if (!Pre && threadIdx.x == 0)
    for (int s = 0; s < min(ns, nst); s++) issue(s);
  unsigned acc = 0;
  for (int t = threadIdx.x; t < nx; t += blockDim.x) acc ^= xq[t];
  for (int s = 0; s < nst; s++) {
    const unsigned bar = bar0 + 8 * (s % ns);
    asm volatile("{\n.reg .pred q;\nW:\nmbarrier.try_wait.parity.shared::cta.b64 q, [%0], %1;\n@!q bra W;\n}\n" ::"r"(bar),
                 "r"((s / ns) & 1)
                 : "memory");
    const uint4* q = (const uint4*)(sm + (size_t)(s % ns) * stg);
    const int n = (int)min((long long)stg, e - (a + (long long)s * stg)) / 16;
    for (int t = threadIdx.x; t < n; t += blockDim.x) {
      const uint4 v = q[t];
      acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    __syncthreads();
    if (threadIdx.x == 0 && s + ns < nst) {
      asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
      issue(s + ns);
    }
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

// Enough copies of the weights of one format (n = 4096, k = 14336) to span 3x the L2, so that each call
// reads a copy no longer in it, and the calls per batch: a multiple of the copies, at least 200.
struct Rotation {
  size_t S;
  int ncopies, per;
  std::vector<char*> c;
  Rotation(int bytesPer256, const cudaDeviceProp& prop) : S((size_t)(4096ll * 14336 / 256 * bytesPer256)) {
    const size_t span = 3 * (size_t)prop.l2CacheSize;
    ncopies = (int)std::max<size_t>(2, (span + S - 1) / S);
    per = std::max(ncopies, 200 / ncopies * ncopies);
    c.resize(ncopies);
    for (auto& p : c) {
      CK(cudaMalloc(&p, S));
      CK(cudaMemset(p, 3, S));
    }
  }
  ~Rotation() {
    for (auto p : c) CK(cudaFree(p));
  }
};

static int depMain(unsigned* out, double copyGBs, const cudaDeviceProp& prop);

int main(int argc, char** argv) {
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
  if (argc > 1 && std::string(argv[1]) == "dep") return depMain(out, copyGBs, prop);
  struct Fmt {
    const char* name;
    int bytesPer256;
  } fmts[] = {{"q2_k", 84},  {"q3_k", 110}, {"iq4_xs", 136}, {"q4_0", 144}, {"q4_1", 160},
              {"q5_0", 176}, {"q5_k", 176}, {"q5_1", 192},   {"q6_k", 210}, {"q8_0", 272}};
  printf("%-7s %7s | %-22s %9s %6s | %-14s %9s %6s | %9s %6s | %9s %6s\n", "format", "MB", "best read (shape)", "us",
         "%copy", "chained (PDL)", "us", "%copy", "+handovr", "%copy", "D2D S/2", "%copy");
  for (auto& f : fmts) {
    const Rotation rot(f.bytesPer256, prop);
    const size_t S = rot.S;
    const int ncopies = rot.ncopies, per = rot.per;
    const std::vector<char*>& c = rot.c;
    const long long n16 = S / 16;
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
                if (u == 2) launchPdl(readk<2, true>, grid, th, 0, (const uint4*)c[r], n16, out);
                else launchPdl(readk<4, true>, grid, th, 0, (const uint4*)c[r], n16, out);
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
  }
  return 0;
}

// `read-ceiling dep`: the dependent chain (quantk, then a reader that waits for it) for five weight
// sizes, readers as above; besides, the plain read and the chained read without a dependency
static int depMain(unsigned* out, double copyGBs, const cudaDeviceProp& prop) {
  struct Fmt {
    const char* name;
    int bytesPer256;
  } fmts[] = {{"q2_k", 84}, {"q4_0", 144}, {"q5_k", 176}, {"q6_k", 210}, {"q8_0", 272}};
  const int nx = 4096;
  unsigned* xq;
  CK(cudaMalloc(&xq, nx * 4));
  CK(cudaFuncSetAttribute(stagek<true>, cudaFuncAttributeMaxDynamicSharedMemorySize, 227 * 1024));
  CK(cudaFuncSetAttribute(stagek<false>, cudaFuncAttributeMaxDynamicSharedMemorySize, 227 * 1024));
  for (auto& f : fmts) {
    const Rotation rot(f.bytesPer256, prop);
    const size_t S = rot.S;
    const int ncopies = rot.ncopies, per = rot.per;
    const std::vector<char*>& c = rot.c;
    const long long n16 = S / 16;
    auto pct = [&](double us) { return 100.0 * (S / (us * 1e3)) / copyGBs; };
    auto report = [&](const char* what, double us) {
      printf("%-6s %6.2f MB  %-34s %8.2f us %5.1f%%\n", f.name, S / 1e6, what, us, pct(us));
      fflush(stdout);
    };
    char nm[96];
    for (int bps : {2, 4}) {
      const int grid = g_sms * bps;
      snprintf(nm, sizeof nm, "plain read s4 %dx512", bps);
      report(nm, timeCalls([&](int r) { readk<4><<<grid, 512>>>((const uint4*)c[r], n16, out); }, ncopies, per, 7));
      snprintf(nm, sizeof nm, "chained, no dependency p4 %dx512", bps);
      report(nm, timeCalls([&](int r) { launchPdl(readk<4, true>, grid, 512, 0, (const uint4*)c[r], n16, out); }, ncopies, per, 7));
      for (int pre = 0; pre < 2; pre++) {
        snprintf(nm, sizeof nm, "dep grid-stride u4 %dx512 %s", bps, pre ? "pre" : "wait");
        report(nm, timeCalls(
                       [&](int r) {
                         launchPdl(quantk, 16, 256, 0, xq, nx);
                         if (pre) launchPdl(deprd<4, true>, grid, 512, 0, (const uint4*)c[r], n16, (const unsigned*)xq, nx, out);
                         else launchPdl(deprd<4, false>, grid, 512, 0, (const uint4*)c[r], n16, (const unsigned*)xq, nx, out);
                       },
                       ncopies, per, 7));
      }
    }
    struct St {
      int bps, threads, stg, ns;
    } sts[] = {{1, 512, 16384, 6}, {1, 512, 32768, 3}, {1, 256, 16384, 6}, {1, 512, 8192, 12},
               {1, 512, 16384, 4}, {1, 512, 32768, 6}, {1, 512, 16384, 13}, {2, 256, 16384, 3}};
    for (auto& t : sts)
      for (int pre = 1; pre >= 0; pre--) {
        if (!pre && t.ns != 6) continue;
        const size_t smem = (size_t)t.stg * t.ns + 8 * t.ns;
        const int grid = g_sms * t.bps;
        snprintf(nm, sizeof nm, "dep stage %dx%d %dKBx%d %s", t.bps, t.threads, t.stg >> 10, t.ns, pre ? "pre" : "wait");
        report(nm, timeCalls(
                       [&](int r) {
                         launchPdl(quantk, 16, 256, 0, xq, nx);
                         if (pre) launchPdl(stagek<true>, grid, t.threads, smem, (const char*)c[r], (long long)S, t.stg, t.ns, (const unsigned*)xq, nx, out);
                         else launchPdl(stagek<false>, grid, t.threads, smem, (const char*)c[r], (long long)S, t.stg, t.ns, (const unsigned*)xq, nx, out);
                       },
                       ncopies, per, 7));
      }
  }
  return 0;
}
