// QuantScope format traits: Q5_1 (ggml type 7), blocks of 32: w = d * q + m, q 5 bits: the nibble
// (elements 0..15 low, 16..31 high nibbles of qs) and bit e of the 32-bit qh for element e.
// qs_format.h lists the traits.
#pragma once
// The int8 small kernel loads its weights with L1 evict_first (QS_LDL1=2, qs_port.h; CUDA only). H100, n =
// 4096, k = 14336, hot, us: m = 1, 2, 4, 8 17.3, 18.3, 20.0, 24.3 against 17.4, 19.2, 20.5, 25.1 plain
// (docs/design.md, "Load width and load hints"). QS_KERNEL_DEFINES=QS_LDL1=0 gives the plain loads.
// H200: 12.3, 13.7, 16.9, 21.3 against 12.6, 14.2, 17.1, 22.3.
#ifndef QS_LDL1
#define QS_LDL1 2
#endif
#include "qs_format.h"

#define QS_TYPE 7
#define QS_QK 32
#define QS_BB 24
struct qs_block_q5_1 {
  qs_u16 d, m;  // float16 scale and offset
  qs_u8 qh[4];  // fifth bits, little-endian
  qs_u8 qs[16]; // nibbles
};
static_assert(sizeof(qs_block_q5_1) == QS_BB, "Q5_1 block size");

// ---- float32 paths: q * d + m (one rounding each: ggml's dequantize_row_q5_1)
#define QS_HAS_OFFSET 1
__device__ __forceinline__ void qs_dq8s(const qs_u8* b, int j, float* q, float& scale, float& offset) {
  scale = qs_h2f(qs_ld16(b));
  offset = qs_h2f(qs_ld16(b + 2));
  const qs_u32 qh = (qs_ld16(b + 4) | (qs_ld16(b + 6) << 16)) >> (8 * j);
  qs_u32 lo, hi;
  qs_ld8b(b + 8 + (j & 1) * 8, lo, hi);
  const int sh = (j >> 1) * 4;
  lo = ((lo >> sh) & 0x0F0F0F0Fu) | qs_bits4_to_b4(qh);
  hi = ((hi >> sh) & 0x0F0F0F0Fu) | qs_bits4_to_b4(qh >> 4);
#pragma unroll
  for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 0.f);
}

// ---- int8 small kernel: one part per block; d * dx * sum(q * xq) + m * sum(x)
#define QS_Q8_P 1
// launch table from sweeps on the H200 (n = 4096, k = 14336, hot us): m = 1 2 rows x 4 warps, loading
// a batch ahead (QS_Q8_PT) 12.5 (2 x 8, two units per batch, plain: 14.0); m = 3 ahead 15.9 (plain
// 18.3); m = 4 plain 16.9 (ahead 18.3). m = 2: 2 x 4, one unit per batch, on an H100 (hot us, two sweep
// runs and the build) 15.6, 15.6, 15.5 against 16.5, 16.5, 16.8 for 8 x 2 with two units
#define QS_Q8_RT 2, 2, 8, 8, 8, 8, 8, 8
#define QS_Q8_RT_AMD 2, 2, 8, 4, 4, 4, 4, 4
#define QS_Q8_WT 4, 4, 2, 2, 2, 2, 2, 2
#define QS_Q8_DT 1, 1, 1, 1, 1, 1, 1, 1
#define QS_Q8_PT 1, 0, 1, 0, 0, 0, 0, 0
struct qs_q8w {
  int v[8]; // q (0..31) as bytes: v[0..3] elements 0..15, v[4..7] 16..31
  float d, m;
};
struct qs_q8r {
  qs_u32 t[7]; // the aligned words covering the 24-byte block
  int sh;
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r& r) {
  (void)p;
  qs_ldwords<7>(b, r.t, r.sh);
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r& r, int p, qs_q8w& u) {
  (void)p;
  const qs_u32 qh = (qs_u32)qs_funnel(r.t, 1, r.sh);
  const qs_u32 a[4] = {(qs_u32)qs_funnel(r.t, 2, r.sh), (qs_u32)qs_funnel(r.t, 3, r.sh),
                        (qs_u32)qs_funnel(r.t, 4, r.sh), (qs_u32)qs_funnel(r.t, 5, r.sh)}; // bytes 8..
  qs_nibbles5(a, qh, u.v);
  const qs_u32 dm = (qs_u32)qs_funnel(r.t, 0, r.sh);
  u.d = qs_h2f(dm & 0xffffu);
  u.m = qs_h2f(dm >> 16);
}
// Split rows (qs_format.h, qs_small_q8.h): each row's 16-byte nibble runs, then its 8-byte headers (d, m,
// fifth bits); a unit is one aligned 16-byte load and one aligned 8-byte load, with no word alignment. Every
// m reads them: on an H100 (n = 4096, k = 14336, hot, us, GGUF / split rows, one call) m = 1, 2, 3, 4, 5, 8
// take 17.1 / 14.9, 18.0 / 16.6, 20.2 / 18.5, 19.6 / 17.6, 20.6 / 18.7, 24.3 / 22.3, cold m = 1 83% / 85% of
// the copy bandwidth (docs/design.md, "Split rows").
#define QS_SPLIT_N 2
#define QS_SPLIT_OFF(i) ((i) == 0 ? 8 : 0)
#define QS_SPLIT_LEN(i) ((i) == 0 ? 16 : 8)
#define QS_Q8_ST 1, 1, 1, 1, 1, 1, 1, 1
struct qs_q8rs {
  uint4 q;
  uint2 h; // d and m, the fifth bits
};
__device__ __forceinline__ void qs_q8_load_split(const qs_u8* row, int kb, int nb, int p, qs_q8rs& r) {
  (void)p;
  r.q = qs_ldg16(row + (qs_i64)QS_SPLIT_POS(0, kb, nb));
  r.h = qs_ldg8(row + (qs_i64)QS_SPLIT_POS(1, kb, nb));
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8rs& r, int p, qs_q8w& u) {
  (void)p;
  const qs_u32 a[4] = {r.q.x, r.q.y, r.q.z, r.q.w};
  qs_nibbles5(a, r.h.y, u.v);
  u.d = qs_h2f(r.h.x & 0xffffu);
  u.m = qs_h2f(r.h.x >> 16);
}
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const int s = qs_dot32(u.v, xq);
  const float2 ds = xd[0];
  return u.d * (ds.x * qs_sumf(s)) + u.m * ds.y;
}

// ---- int8 matrix-unit kernel: a slice (128 elements) is 4 whole blocks; weights q (0..31), the offset
// m per 32 added by the tf32 offset term with the exact float sums of x
#define QS_I8_DEF_MINB 2
#define QS_I8_DEF_JUNROLL 1
#define QS_I8_DEF_STAGES 3
#define QS_I8_NV 7   // 96 bytes from an 8-byte-aligned start
#define QS_I8_RS 112
#define QS_I8_NSC 2  // d and m per 32
#define QS_I8_OFFSET 1
#include "qs_i8_block32.h"
__device__ __forceinline__ void qs_i8_frag(const qs_u8* p, int rbm, int st, int j, int t, qs_u32& b0, qs_u32& b1) {
  const qs_u8* b = QS_I8_BLOCK(p, rbm, st, j);
  const qs_u32 qh = qs_ld4(b + 4), v = qs_ld4(b + 8 + 4 * t);
  b0 = (v & 0x0F0F0F0Fu) | qs_bits4_to_b4(qh >> (4 * t));
  b1 = ((v >> 4) & 0x0F0F0F0Fu) | qs_bits4_to_b4(qh >> (16 + 4 * t));
}
