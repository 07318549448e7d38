// QuantScope format traits: Q8_0 (ggml type 8), blocks of 32: w = d * q, q signed bytes.
// qs_format.h lists the traits.
#pragma once
// The int8 small kernel loads its weights with L1 evict_first (QS_LDL1=2, qs_port.h; CUDA only). H100, n =
// 4096, k = 14336, hot, us: m = 2, 4, 8 25.1, 25.7, 28.8 against 25.5, 26.5, 30.1 plain; m = 1 23.5 against
// 23.4 (docs/design.md, "Load width and load hints"). QS_KERNEL_DEFINES=QS_LDL1=0 gives the plain loads.
// H200: m = 2, 4, 8 19.2, 21.1, 24.4 against 19.6, 21.8, 25.2; m = 1 18.2 against 18.1 (cold 18.1 against 17.9).
#ifndef QS_LDL1
#define QS_LDL1 2
#endif
#include "qs_format.h"

#define QS_TYPE 8
#define QS_QK 32
#define QS_BB 34
struct qs_block_q8_0 {
  qs_u16 d;     // float16 scale
  qs_i8 qs[32]; // signed quants
};
static_assert(sizeof(qs_block_q8_0) == QS_BB, "Q8_0 block size");

// ---- float32 paths
__device__ __forceinline__ void qs_dq8s(const qs_u8* b, int j, float* q, float& scale, float& offset) {
  offset = 0.f;
  scale = qs_h2f(qs_ld16(b));
  qs_u32 lo, hi;
  qs_ld8b(b + 2 + j * 8, lo, hi);
  lo ^= 0x80808080u; // signed byte q -> q + 128
  hi ^= 0x80808080u;
#pragma unroll
  for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 128.f);
}

// ---- int8 small kernel: one part per block (32 elements)
#define QS_Q8_P 1
// m = 2: 2 rows x 8 warps, one unit per batch: 20.0 us hot on an H100 (n = 4096, k = 14336, split rows,
// three alternating rounds) against 21.6 for 2 x 1 with two units, which the H200 had picked (19.3 there,
// 2 x 8 with two units 20.8). m = 3 to 5: 4 x 2, on an H100 21.2 (level with 2 x 8), 20.9 and 22.8 us
// against 22.6, 22.5 and 23.7 for 4 x 4; on the H200 m = 4 in this shape (17.3) beat m = 3 in 2 x 8 (19.6).
// H200 with these entries: m = 2 16.9 (2 x 4: 16.4, one run), m = 3 18.1, m = 4 17.3 us
// (docs/design.md, "Geometry per format and m")
#define QS_Q8_RT 1, 2, 4, 4, 4, 8, 8, 8
#define QS_Q8_RT_AMD 1, 2, 2, 4, 4, 4, 4, 4
#define QS_Q8_WT 8, 8, 2, 2, 2, 2, 2, 2
#define QS_Q8_DT 2, 1, 1, 1, 1, 1, 1, 1
struct qs_q8w {
  int v[8];
  float d;
};
struct qs_q8r {
  qs_u32 t[9]; // the aligned words covering the 34-byte block
  int sh;
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r& r) {
  (void)p;
  qs_ldwords<9>(b, r.t, r.sh);
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r& r, int p, qs_q8w& u) {
  (void)p;
#pragma unroll
  for (int i = 0; i < 8; i++) u.v[i] = qs_funnel(r.t, i, 16 + r.sh);
  u.d = qs_h2f((r.t[0] >> r.sh) & 0xffffu);
}
// Split rows (qs_format.h, qs_small_q8.h): each row's 32-byte quants, then its float16 scales. A unit is
// two aligned 16-byte loads and one 2-byte load instead of nine 4-byte loads and eight word alignments,
// and a warp's quant loads are contiguous. Every m reads them: on an H100 (n = 4096, k = 14336, hot, us)
// m = 1, 2, 3, 4, 5, 8 take 19.4, 21.0, 22.5, 22.6, 23.7, 25.7 against 23.4, 24.3, 24.5, 25.1, 26.4,
// 28.5 with GGUF rows (QS_Q8_SPLIT=0), and cold m = 1 moves the weights at 97% of the copy bandwidth
// against 90% (docs/design.md, "Split rows").
#define QS_SPLIT_N 2
#define QS_SPLIT_OFF(i) ((i) == 0 ? 2 : 0)
#define QS_SPLIT_LEN(i) ((i) == 0 ? 32 : 2)
#define QS_Q8_ST 1, 1, 1, 1, 1, 1, 1, 1
struct qs_q8rs {
  uint4 a, b; // the quants
  qs_u32 d;   // the scale's bits
};
__device__ __forceinline__ void qs_q8_load_split(const qs_u8* row, int kb, int nb, int p, qs_q8rs& r) {
  (void)p;
  const uint4* q = (const uint4*)(row + (qs_i64)QS_SPLIT_POS(0, kb, nb));
  r.a = qs_ldg16(q);
  r.b = qs_ldg16(q + 1);
  r.d = qs_ld16(row + (qs_i64)QS_SPLIT_POS(1, kb, nb));
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8rs& r, int p, qs_q8w& u) {
  (void)p;
  const qs_u32 q[8] = {r.a.x, r.a.y, r.a.z, r.a.w, r.b.x, r.b.y, r.b.z, r.b.w};
#pragma unroll
  for (int i = 0; i < 8; i++) u.v[i] = (int)q[i];
  u.d = qs_h2f(r.d);
}
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const int s = qs_dot32(u.v, xq);
  return u.d * xd[0].x * qs_sumf(s);
}

// ---- int8 matrix-unit kernel: a slice (128 elements) is 4 whole blocks; weights q
#define QS_I8_DEF_MINB 1
#define QS_I8_DEF_JUNROLL 4
#define QS_I8_DEF_STAGES 3
#define QS_I8_NV 10
#define QS_I8_RS 176
#define QS_I8_NSC 1
#include "qs_i8_block32.h"
__device__ __forceinline__ void qs_i8_frag(const qs_u8* p, int rbm, int st, int j, int t, qs_u32& b0, qs_u32& b1) {
  const qs_u8* q = QS_I8_BLOCK(p, rbm, st, j) + 2 + 4 * t;
  b0 = qs_ld4(q);
  b1 = qs_ld4(q + 16);
}
