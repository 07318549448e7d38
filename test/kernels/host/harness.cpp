// Host harness for test/kernels/host-math.test.ts: the kernels' own device functions, compiled for the
// CPU (-DQS_HOST -include <format stem>.h, the format's traits header), run on weights and activations
// from a file; or, with the single argument "geometry", qs_q8_geometry's numbers on stdout; or, with
// "kernel IN OUT", the quantizer qs_x_q8 and the small kernel themselves run on the CPU (runSmall, below) on
// the same input, its y to OUT (a kernel that reads split rows reads the copy qs_q8_split makes of them);
// or, with "split IN OUT", the split-row copy qs_q8_split makes of the input's weights (formats with split
// rows), to OUT.
//   in : int32 n, k, m; n rows of raw GGUF blocks; m*k float32 activations
//   out: n*k float32 from qs_dq8 (the exact dequantization the float32 kernels use), then m*n float32
//        from the fused-small-q8 arithmetic: x quantized per 32 as qs_x_q8 does it (same scale, rounding
//        and sum order), then every unit through qs_q8_load / qs_q8_unpack / qs_q8_dot; then, for the
//        formats with the int8 matrix-unit traits (QS_I8_NV), n*k float32: every weight as qs_mma_i8 sees
//        it, rebuilt from its slot in shared memory (the slice's pieces copied as the kernel's cp.async
//        does, from the 16-byte-aligned spans) through qs_i8_scale and qs_i8_frag: byte * dw (+ offset);
//        then, for the formats with a slice decode for Hopper's bfloat16 kernel (QS_WB_SLICE), n*k float32
//        from qs_wb_load / qs_wb_dec. stdout names the optional sections written, one per line (i8, wb-slice).
#include "qs_kernels.h"
#include "block_runner.h"
#include "x_q8.h"
#include <cstdio>
#include <cstring>
#include <vector>

static bool readAll(FILE* f, void* p, size_t n) { return fread(p, 1, n, f) == n; }

#ifdef QS_SPLIT_N
// The split-row copy of w that qs_q8_split makes, run in 3 blocks of 64 threads (so that its grid-stride
// loop runs as on a GPU) into a buffer filled with 0xA5, `extra` bytes longer than the split rows.
static std::vector<qs_u8> makeSplit(const std::vector<qs_u8>& w, int n, int k, size_t extra) {
  std::vector<qs_u8> split((size_t)n * qs_split_row_bytes(k / QS_QK, QS_BB) + extra, 0xA5);
  for (unsigned b = 0; b < 3; b++)
    qs_host_run_block({3, 1, 1}, {b, 0, 0}, 64, 0, [&] { qs_q8_split(w.data(), split.data(), n, k); });
  return split;
}
#endif

// The int8 small kernel qs_q8_m<M> itself, its grid's blocks (one per group of QS_Q8_ROWS(M) rows) run
// one by one by block_runner.h, warp shuffles and barriers included. y: m*n float32. Where the kernel reads
// split rows (QS_Q8_SPLITS), it reads makeSplit's copy of w (the bytes qs_q8_split leaves are not read).
template <int M>
static void runSmall(const std::vector<qs_u8>& w, const std::vector<int>& xq, const std::vector<float2>& xd, int n, int k,
                     std::vector<float>& y) {
  constexpr int R = QS_Q8_ROWS(M), threads = QS_Q8_WARPS(M) * QS_WARP;
  const unsigned groups = (n + R - 1) / R;
  const qs_u8* wk = w.data();
#ifdef QS_SPLIT_N
  std::vector<qs_u8> split;
  if (QS_Q8_SPLITS(M)) {
    split = makeSplit(w, n, k, 64);
    wk = split.data();
  }
#endif
  y.assign((size_t)M * n, 0.f / 0.f); // an output the kernel does not write stays NaN
  for (unsigned b = 0; b < groups; b++)
    qs_host_run_block({groups, 1, 1}, {b, 0, 0}, threads, 0, [&] {
      typedef void (*Entry)(const int*, const float2*, const qs_u8*, float*, int, int);
      constexpr Entry e[8] = {qs_q8_m1, qs_q8_m2, qs_q8_m3, qs_q8_m4, qs_q8_m5, qs_q8_m6, qs_q8_m7, qs_q8_m8};
      e[M - 1](xq.data(), xd.data(), wk, y.data(), n, k);
    });
}

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "geometry") == 0) {
    int g[QS_Q8_GEOMETRY_LEN];
    qs_q8_geometry(g);
    for (int i = 0; i < QS_Q8_GEOMETRY_LEN; i++) printf("%d%c", g[i], i == QS_Q8_GEOMETRY_LEN - 1 ? '\n' : ' ');
    return 0;
  }
  // "kernel IN OUT": the quantizer and the small kernel themselves on the CPU (runSmall)
  const bool kernel = argc == 4 && std::strcmp(argv[1], "kernel") == 0;
  const bool splitOnly = argc == 4 && std::strcmp(argv[1], "split") == 0;
  if (kernel || splitOnly) argv++;
  else if (argc != 3) return 2;
  FILE* f = fopen(argv[1], "rb");
  if (!f) return 3;
  int hdr[3];
  if (!readAll(f, hdr, sizeof hdr)) return 4;
  const int n = hdr[0], k = hdr[1], m = hdr[2];
  const qs_i64 rowBytes = (qs_i64)(k / QS_QK) * QS_BB;
  std::vector<qs_u8> w((size_t)(n * rowBytes) + 64, 0); // padded like the device buffers
  std::vector<float> x((size_t)m * k);
  if (!readAll(f, w.data(), (size_t)(n * rowBytes)) || !readAll(f, x.data(), x.size() * 4)) return 5;
  fclose(f);

  if (splitOnly) {
#ifdef QS_SPLIT_N
    const std::vector<qs_u8> split = makeSplit(w, n, k, 0);
    FILE* o = fopen(argv[2], "wb");
    if (!o || fwrite(split.data(), 1, split.size(), o) != split.size()) return 6;
    fclose(o);
    return 0;
#else
    return fprintf(stderr, "the format has no split rows\n"), 7;
#endif
  }

  // qs_x_q8 on the CPU (x_q8.h)
  std::vector<int> xq;
  std::vector<float2> xd;
  qs_host_x_q8(x, xq, xd);
  if (kernel) {
    // the quantizer kernel qs_x_q8 itself (3 blocks of 64 threads, so that its grid-stride loop and the
    // shuffles of its 8-lane groups run as on a GPU) must write what x_q8.h computes, bit for bit
    std::vector<int> kq(xq.size(), 0x5a5a5a5a);
    std::vector<float2> kd(xd.size(), make_float2(-1.f, -1.f));
    for (unsigned b = 0; b < 3; b++)
      qs_host_run_block({3, 1, 1}, {b, 0, 0}, 64, 0, [&] { qs_x_q8(x.data(), (qs_i8*)kq.data(), kd.data(), m, k); });
    if (std::memcmp(kq.data(), xq.data(), xq.size() * 4) != 0 || std::memcmp(kd.data(), xd.data(), xd.size() * 8) != 0)
      return fprintf(stderr, "qs_x_q8 on the CPU differs from x_q8.h\n"), 9;
    std::vector<float> yk;
    typedef void (*Run)(const std::vector<qs_u8>&, const std::vector<int>&, const std::vector<float2>&, int, int,
                        std::vector<float>&);
    constexpr Run runs[8] = {runSmall<1>, runSmall<2>, runSmall<3>, runSmall<4>,
                             runSmall<5>, runSmall<6>, runSmall<7>, runSmall<8>};
    if (m < 1 || m > 8) return 2;
    runs[m - 1](w, kq, kd, n, k, yk); // the small kernel reads what the quantizer kernel wrote
    FILE* o = fopen(argv[2], "wb");
    if (!o || fwrite(yk.data(), 4, yk.size(), o) != yk.size()) return 6;
    fclose(o);
    return 0;
  }

  std::vector<float> dq((size_t)n * k);
  for (int r = 0; r < n; r++)
    for (int e = 0; e < k; e += 8) qs_dq8(w.data() + r * rowBytes + (e / QS_QK) * QS_BB, (e % QS_QK) / 8, &dq[(size_t)r * k + e]);

  std::vector<float> y((size_t)m * n);
  // the unit of QS_Q8_KP parts per block (-DQS_Q8_KP=4: the K-quants' 64-element units), else the default
#ifdef QS_Q8_KP
  typedef qs_q8u<QS_Q8_KP> U;
#else
  typedef qs_q8u<QS_Q8_P> U;
#endif
  const int units = (k / QS_QK) * U::P;
  for (int mi = 0; mi < m; mi++)
    for (int r = 0; r < n; r++) {
      float acc = 0.f;
      for (int u = 0; u < units; u++) {
        const int kb = u / U::P;
        typename U::raw raw;
        typename U::dec wq;
        qs_q8_load(w.data() + r * rowBytes + (qs_i64)kb * QS_BB, u % U::P, raw);
        qs_q8_unpack(raw, u % U::P, wq);
        acc += qs_q8_dot(wq, xq.data() + (size_t)mi * (k / 4) + kb * (QS_QK / 4), xd.data() + (size_t)mi * (k / 32) + kb * (QS_QK / 32));
      }
      y[(size_t)mi * n + r] = acc;
    }

#ifdef QS_I8_NV
  std::vector<float> wi((size_t)n * k);
  const int nb = k / QS_QK;
  for (int r = 0; r < n; r++) {
    const int rbm = (int)(((qs_i64)r * rowBytes) & 15);
    for (int st = 0; st * 128 < k; st++) {
      qs_u8 slot[QS_I8_RS];
      std::memset(slot, 0xA5, sizeof slot);
      for (int v = 0; v < QS_I8_NV; v++) {
        int rel, len, q;
        qs_i8_piece(v, st, nb, rel, len, q);
        const qs_i64 a = (qs_i64)r * rowBytes + rel, src = (a & ~(qs_i64)15) + 16 * q;
        if (src < a + len) std::memcpy(slot + 16 * v, w.data() + src, 16);
      }
      for (int j = 0; j < 4 && st * 128 + 32 * j < k; j++) {
        float s0 = 0.f, s2 = 0.f;
        qs_i8_scale(slot, rbm, st, j, nb, s0, s2);
        for (int t = 0; t < 4; t++) {
          qs_u32 b[2];
          qs_i8_frag(slot, rbm, st, j, t, b[0], b[1]);
          for (int half = 0; half < 2; half++)
            for (int i = 0; i < 4; i++) {
              const int kk = 16 * half + 4 * t + i; // k within the 32-step
              const float q = (float)(int)(qs_i8)(b[half] >> (8 * i));
#if defined(QS_I8_SPLIT16)
              const float wv = __fmul_rn(q, half ? s2 : s0);
#elif defined(QS_I8_OFFSET)
              const float wv = __fmul_rn(s0, q) + s2;
#else
              const float wv = __fmul_rn(q, s0);
#endif
              wi[(size_t)r * k + st * 128 + 32 * j + kk] = wv;
            }
        }
      }
    }
  }
#endif

#if defined(QS_WB_SLICE) && QS_WB_SLICE
  // Hopper's bfloat16 warpgroup kernel's slice decode: per row, 128-wide slice and thread t of a quad,
  // qs_wb_load once and qs_wb_dec for the four 32-steps (elements 32c + 8t .. + 7 of the slice)
  std::vector<float> wb((size_t)n * k);
  for (int r = 0; r < n; r++)
    for (int k0 = 0; k0 < k; k0 += 128)
      for (int t = 0; t < 4; t++) {
        qs_wbs s;
        qs_wb_load(w.data() + r * rowBytes + (qs_i64)(k0 / QS_QK) * QS_BB, (k0 % QS_QK) / 8 + t, s);
        for (int c = 0; c < 4; c++) qs_wb_dec(s, c, &wb[(size_t)r * k + k0 + 32 * c + 8 * t]);
      }
#endif

  FILE* o = fopen(argv[2], "wb");
  if (!o) return 6;
  fwrite(dq.data(), 4, dq.size(), o);
  fwrite(y.data(), 4, y.size(), o);
  fwrite(xq.data(), 4, xq.size(), o);
  fwrite(xd.data(), 8, xd.size(), o);
#ifdef QS_I8_NV
  fwrite(wi.data(), 4, wi.size(), o);
  printf("i8\n");
#endif
#if defined(QS_WB_SLICE) && QS_WB_SLICE
  fwrite(wb.data(), 4, wb.size(), o);
  printf("wb-slice\n");
#endif
  fclose(o);
  return 0;
}
