// Standalone check + benchmark of qs_mma_i8 (kernels/qs_mma_i8.h) against the exact float32 kernel
// qs_tiled_f32, and timing against the existing bf16 path (qs_x_bf16 + qs_mma_f16 + qs_splitk_sum).
//   nvcc -O3 -gencode=arch=compute_90,code=sm_90 -I kernels -DQS_TYPE=12 test/gpu/mma-i8/harness.cu -o /tmp/h12
//   /tmp/h12            all shapes (big ones timed)
//   /tmp/h12 small      only the small shapes (for compute-sanitizer)
//   /tmp/h12 big        only the big shapes
// One line per case: format m n k splits us_new us_q8 us_bf16 nmse maxabs PASS/FAIL. Exit 1 on any FAIL.
#include <cuda_runtime.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
// the format's traits header for -DQS_TYPE=<ggml type id>
#if QS_TYPE == 2
#include "q4_0.h"
#elif QS_TYPE == 8
#include "q8_0.h"
#elif QS_TYPE == 12
#include "q4_k.h"
#elif QS_TYPE == 13
#include "q5_k.h"
#elif QS_TYPE == 14
#include "q6_k.h"
#endif
#include "qs_kernels.h"
#include "qs_q8.h"
#include "qs_mma_i8.h"

#define CK(x)                                                                                  \
  do {                                                                                         \
    cudaError_t e_ = (x);                                                                      \
    if (e_ != cudaSuccess) {                                                                   \
      fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_));       \
      exit(2);                                                                                 \
    }                                                                                          \
  } while (0)

static const char* fmtName() {
  switch (QS_TYPE) {
    case 2: return "Q4_0";
    case 8: return "Q8_0";
    case 12: return "Q4_K";
    case 13: return "Q5_K";
    default: return "Q6_K";
  }
}

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static inline unsigned rnd32() {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng >> 11);
}
static inline float rndu() { return (rnd32() & 0xFFFFFF) / 16777216.0f; }
static inline float rndn() {
  float u1 = std::max(rndu(), 1e-7f), u2 = rndu();
  return sqrtf(-2.f * logf(u1)) * cosf(6.2831853f * u2);
}
static unsigned short f2h(float f) {
  // float -> IEEE half (round to nearest), for normal values in half range and 65504
  unsigned u;
  memcpy(&u, &f, 4);
  unsigned sign = (u >> 16) & 0x8000;
  int e = (int)((u >> 23) & 0xff) - 127 + 15;
  unsigned mant = u & 0x7fffff;
  if (e <= 0) return (unsigned short)sign; // flush tiny (not used)
  if (e >= 31) return (unsigned short)(sign | 0x7bff);
  unsigned h = sign | (e << 10) | (mant >> 13);
  if ((mant >> 12) & 1) h++;
  return (unsigned short)h;
}
static void put16(unsigned char* p, unsigned short v) {
  p[0] = v & 0xff;
  p[1] = v >> 8;
}
static unsigned short rscale() {
  float d = 1e-3f + rndu() * (1e-1f - 1e-3f);
  if (rnd32() & 1) d = -d;
  return f2h(d);
}

// random valid weights plus adversarial blocks; returns host bytes
static std::vector<unsigned char> makeW(int n, int k, std::vector<float>& x, int m) {
  const int nb = k / QS_QK;
  std::vector<unsigned char> w((size_t)n * nb * QS_BB + 256);
  for (auto& b : w) b = (unsigned char)rnd32();
  for (int r = 0; r < n; r++)
    for (int b = 0; b < nb; b++) {
      unsigned char* p = &w[((size_t)r * nb + b) * QS_BB];
      const unsigned kind = rnd32() % 64;
#if QS_TYPE == 2 || QS_TYPE == 8
      put16(p, rscale());
      if (kind == 0) put16(p, 0);                                             // zero scale
      if (kind == 1) memset(p + 2, QS_TYPE == 2 ? 0xFF : 0x80, QS_BB - 2);   // all-max quants
      if (kind == 2) memset(p + 2, QS_TYPE == 2 ? 0x00 : 0x7F, QS_BB - 2);
#elif QS_TYPE == 12 || QS_TYPE == 13
      put16(p, rscale());
      put16(p + 2, rscale());
      if (kind == 0) put16(p, 0), put16(p + 2, 0);
      if (kind == 1) memset(p + 4, 0xFF, QS_BB - 4); // all scales/mins 63, all quants max
      if (kind == 2) put16(p + 2, 0);
#else
      put16(p + 208, rscale());
      if (kind == 0) put16(p + 208, 0);
      if (kind == 1) memset(p, 0xFF, 192);            // q = 31 everywhere
      if (kind == 2) memset(p, 0x00, 192);            // q = -32 everywhere
      if (kind == 3) memset(p + 192, 0x80, 16);       // scales -128
#endif
    }
  // d = 65504 in the first block of row min(3, n-1), with small activations in that block's columns
  {
    const int r = std::min(3, n - 1);
    unsigned char* p = &w[(size_t)r * nb * QS_BB];
#if QS_TYPE == 14
    put16(p + 208, 0x7bff);
#else
    put16(p, 0x7bff);
#endif
    for (int i = 0; i < m; i++)
      for (int c = 0; c < QS_QK; c++) x[(size_t)i * k + c] *= 1e-3f;
  }
  return w;
}

static int g_nsm = 132;

struct Case {
  int m, n, k;
  bool timed;
};

static float median(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

static bool runCase(const Case& cs) {
  const int m = cs.m, n = cs.n, k = cs.k;
  std::vector<float> hx((size_t)m * k);
  for (auto& v : hx) v = rndn();
  if (m > 5) {
    for (int c = 0; c < k; c++) hx[(size_t)1 * k + c] *= 1e-4f; // a tiny row
    for (int c = 0; c < k; c++) hx[(size_t)2 * k + c] = 0.f;     // a zero row
  }
  std::vector<unsigned char> hw = makeW(n, k, hx, m);

  float *dx, *dy, *dref, *dpart = nullptr, *dpartb = nullptr;
  unsigned char* dw;
  qs_i8* dxq;
  float2* dxd;
  qs_u16* dxb;
  const int kpad = (k + 63) / 64 * 64;
  CK(cudaMalloc(&dx, hx.size() * 4));
  CK(cudaMalloc(&dw, hw.size()));
  CK(cudaMalloc(&dy, (size_t)m * n * 4));
  CK(cudaMalloc(&dref, (size_t)m * n * 4));
  CK(cudaMalloc(&dxq, (size_t)m * k));
  CK(cudaMalloc(&dxd, (size_t)m * (k / 32) * 8));
  CK(cudaMalloc(&dxb, (size_t)m * kpad * 2 + 256));
  CK(cudaMemcpy(dx, hx.data(), hx.size() * 4, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(dw, hw.data(), hw.size(), cudaMemcpyHostToDevice));

  // reference
  CK(cudaMemset(dref, 0xFF, (size_t)m * n * 4));
  qs_tiled_f32<<<dim3((n + 63) / 64, (m + 63) / 64), 256>>>(dx, dw, dref, m, n, k);
  CK(cudaGetLastError());

  // new path geometry: split-K so that about one block per SM runs (1 block of 256 threads per SM)
  const int gx = (n + QS_I8_BN - 1) / QS_I8_BN, gy = (m + QS_I8_BM - 1) / QS_I8_BM;
  const int nst = (k + QS_I8_KT - 1) / QS_I8_KT;
  int occ = 1;
  CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ, qs_mma_i8, QS_I8_NT, QS_I8_SMEM));
  const int want = std::max(1, std::min({16, g_nsm * occ / (gx * gy), std::max(1, nst / 4)}));
  int per = (nst + want - 1) / want, splits = (nst + per - 1) / per;
  if (getenv("QS_SPLITS")) { // override (tuning): number of k-splits wanted
    const int wv = std::max(1, std::min(atoi(getenv("QS_SPLITS")), nst));
    per = (nst + wv - 1) / wv;
    splits = (nst + per - 1) / per;
  }
  if (splits > 1) CK(cudaMalloc(&dpart, (size_t)splits * m * n * 4));
  const int qgrid = std::max(1, std::min((int)(((long long)m * k / 4 + 255) / 256), g_nsm * 16));
  const int sgrid = std::max(1, std::min((int)(((long long)m * n + 255) / 256), g_nsm * 16));
  auto runNew = [&]() {
    qs_x_q8<<<qgrid, 256>>>(dx, dxq, dxd, m, k);
    float* out = splits > 1 ? dpart : dy;
    qs_mma_i8<<<dim3(gx, gy, splits), QS_I8_NT, QS_I8_SMEM>>>(dxq, dxd, dw, out, m, n, k, per);
    if (splits > 1) qs_splitk_sum<<<sgrid, 256>>>(dpart, dy, (qs_i64)m * n, splits);
  };
  // bf16 path geometry (backend.ts 'fused-mma-f16')
  const int bgx = (n + 127) / 128, bgy = (m + 127) / 128, slices = kpad / 64;
  const int bwant = std::max(1, std::min({16, (int)lround(2.0 * g_nsm / (bgx * bgy)), slices / 4}));
  const int bper = (slices + bwant - 1) / bwant, bsplits = (slices + bper - 1) / bper;
  if (bsplits > 1) CK(cudaMalloc(&dpartb, (size_t)bsplits * m * n * 4));
  const int cgrid = std::max(1, std::min((int)(((long long)m * kpad / 2 + 255) / 256), g_nsm * 16));
  auto runOld = [&]() {
    qs_x_bf16<<<cgrid, 256>>>(dx, (qs_u32*)dxb, m, k, kpad);
    float* out = bsplits > 1 ? dpartb : dy;
    qs_mma_f16<<<dim3(bgx, bgy, bsplits), 256>>>(dxb, dw, out, m, n, k, kpad, bper);
    if (bsplits > 1) qs_splitk_sum<<<sgrid, 256>>>(dpartb, dy, (qs_i64)m * n, bsplits);
  };

  CK(cudaMemset(dy, 0xFF, (size_t)m * n * 4));
  if (dpart) CK(cudaMemset(dpart, 0xFF, (size_t)splits * m * n * 4));
  runNew();
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());
  std::vector<float> hy((size_t)m * n), hr((size_t)m * n);
  CK(cudaMemcpy(hy.data(), dy, hy.size() * 4, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(hr.data(), dref, hr.size() * 4, cudaMemcpyDeviceToHost));
  double num = 0, den = 0, maxabs = 0;
  bool nan = false;
  for (size_t i = 0; i < hy.size(); i++) {
    if (!std::isfinite(hy[i]) || !std::isfinite(hr[i])) {
      nan = true;
      continue;
    }
    const double d = (double)hy[i] - hr[i];
    num += d * d;
    den += (double)hr[i] * hr[i];
    maxabs = std::max(maxabs, fabs(d));
  }
  const double nmse = den > 0 ? num / den : (num > 0 ? 1.0 : 0.0);
  const bool pass = !nan && nmse <= 5e-4;

  float usNew = 0, usOld = 0, usQ8 = 0;
  if (cs.timed) {
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    auto timeIt = [&](auto fn) {
      std::vector<float> ts;
      for (int i = 0; i < 25; i++) {
        CK(cudaEventRecord(e0));
        fn();
        CK(cudaEventRecord(e1));
        CK(cudaEventSynchronize(e1));
        float ms;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        if (i >= 5) ts.push_back(ms * 1000.f);
      }
      CK(cudaGetLastError());
      return median(ts);
    };
    usNew = timeIt(runNew);
    usQ8 = timeIt([&]() { qs_x_q8<<<qgrid, 256>>>(dx, dxq, dxd, m, k); });
    usOld = timeIt(runOld);
    CK(cudaEventDestroy(e0));
    CK(cudaEventDestroy(e1));
  }
  printf("%-5s m=%-4d n=%-5d k=%-6d splits=%-2d occ=%d us_new=%8.1f us_q8=%6.1f us_bf16=%8.1f nmse=%.3e maxabs=%.3e %s%s\n",
         fmtName(), m, n, k, splits, occ, usNew, usQ8, usOld, nmse, maxabs, pass ? "PASS" : "FAIL", nan ? " (NaN/unwritten)" : "");
  fflush(stdout);
  cudaFree(dx), cudaFree(dw), cudaFree(dy), cudaFree(dref), cudaFree(dxq), cudaFree(dxd), cudaFree(dxb);
  if (dpart) cudaFree(dpart);
  if (dpartb) cudaFree(dpartb);
  return pass;
}

int main(int argc, char** argv) {
  const bool small = argc > 1 && !strcmp(argv[1], "small");
  const bool big = argc > 1 && !strcmp(argv[1], "big");
  CK(cudaDeviceGetAttribute(&g_nsm, cudaDevAttrMultiProcessorCount, 0));
  CK(cudaFuncSetAttribute(qs_mma_i8, cudaFuncAttributeMaxDynamicSharedMemorySize, QS_I8_SMEM));
  std::vector<Case> cases;
  if (!small) {
    cases.push_back({512, 4096, 14336, true});
    cases.push_back({64, 4096, 14336, true});
    cases.push_back({16, 4096, 14336, true});
  }
  if (!big) {
    cases.push_back({9, 1, QS_QK, false});
    cases.push_back({17, 67, 3 * QS_QK, false});
    cases.push_back({100, 1029, (QS_QK == 32 ? 33 : 17) * QS_QK, false});
    cases.push_back({130, 8195, 4 * 256, false});
  }
  bool ok = true;
  for (const auto& c : cases) ok = runCase(c) && ok;
  return ok ? 0 : 1;
}
