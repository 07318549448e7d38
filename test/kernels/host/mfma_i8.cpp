// Host harness for test/kernels/host-math.test.ts: the AMD int8 MFMA kernel qs_mfma_i8 (kernels/qs_mfma_i8.h)
// itself, compiled for the CPU (-DQS_HOST -DQS_MFMA_I8_EMULATE=1 or 2 -include <format stem>.h) with the
// MFMA instruction emulated from its lane layout, its blocks run one by one by block_runner.h; or, with the
// single argument "geometry", qs_mfma_i8_geometry's 6 numbers on stdout.
//   in : int32 n, k, m, per (k-slices per split); n rows of raw GGUF blocks; m*k float32 activations
//   out: m*n float32: x quantized as qs_x_q8 does (x_q8.h), qs_mfma_i8 over the grid
//        (ceil(n/128), ceil(m/128), splits) with block z writing its partial sums to y + z*m*n, and those
//        added as qs_splitk_sum adds them (in z order from 0)
#include "qs_kernels.h"
#include "block_runner.h"
#include "x_q8.h"
#include <cstdio>
#include <cstring>
#include <vector>

#ifndef QS_HAS_MFMA_I8
#error "build with a format header that has the int8 matrix-unit traits and -DQS_MFMA_I8_EMULATE=1 or 2"
#endif

static bool readAll(FILE* f, void* p, size_t n) { return fread(p, 1, n, f) == n; }

int main(int argc, char** argv) {
  int geo[6];
  qs_mfma_i8_geometry(geo);
  if (argc == 2 && std::strcmp(argv[1], "geometry") == 0) {
    for (int i = 0; i < 6; i++) printf("%d%c", geo[i], i == 5 ? '\n' : ' ');
    return 0;
  }
  if (argc != 3) return 2;
  FILE* f = fopen(argv[1], "rb");
  if (!f) return 3;
  int hdr[4];
  if (!readAll(f, hdr, sizeof hdr)) return 4;
  const int n = hdr[0], k = hdr[1], m = hdr[2], per = hdr[3];
  const qs_i64 rowBytes = (qs_i64)(k / QS_QK) * QS_BB;
  std::vector<qs_u8> w((size_t)(n * rowBytes) + 64, 0); // padded like the device buffers
  std::vector<float> x((size_t)m * k);
  if (!readAll(f, w.data(), (size_t)(n * rowBytes)) || !readAll(f, x.data(), x.size() * 4)) return 5;
  fclose(f);

  std::vector<int> xq;
  std::vector<float2> xd;
  qs_host_x_q8(x, xq, xd);

  const int smem = geo[0], bm = geo[2], bn = geo[3], kt = geo[4], threads = geo[5];
  const int slices = (k + kt - 1) / kt, splits = (slices + per - 1) / per;
  const qs_dim3 grid = {(unsigned)((n + bn - 1) / bn), (unsigned)((m + bm - 1) / bm), (unsigned)splits};
  // partial sums, poisoned (all bits set: NaN) so that an output the kernel never writes shows
  std::vector<float> part((size_t)splits * m * n);
  std::memset(part.data(), 0xff, part.size() * 4);
  const qs_i8* xqp = (const qs_i8*)xq.data();
  const float2* xdp = xd.data();
  const qs_u8* wp = w.data();
  float* yp = part.data();
  const std::function<void()> body = [&]() { qs_mfma_i8(xqp, xdp, wp, yp, m, n, k, per); };
  for (unsigned z = 0; z < grid.z; z++)
    for (unsigned by = 0; by < grid.y; by++)
      for (unsigned bx = 0; bx < grid.x; bx++) qs_host_run_block(grid, {bx, by, z}, threads, (size_t)smem, body);

  std::vector<float> y((size_t)m * n);
  for (size_t i = 0; i < y.size(); i++) {
    float s = 0.f;
    for (int z = 0; z < splits; z++) s += part[(size_t)z * m * n + i];
    y[i] = s;
  }
  FILE* o = fopen(argv[2], "wb");
  if (!o) return 6;
  fwrite(y.data(), 4, y.size(), o);
  fclose(o);
  return 0;
}
