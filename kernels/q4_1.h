// QuantScope format traits: Q4_1 (ggml type 3), blocks of 32: w = d * q + m, q the 4-bit values (elements
// 0..15 in the low nibbles of qs, 16..31 in the high ones). qs_format.h lists the traits.
#pragma once
#include "qs_format.h"

#define QS_TYPE 3
#define QS_QK 32
#define QS_BB 20
struct qs_block_q4_1 {
  qs_u16 d, m;  // float16 scale and offset
  qs_u8 qs[16]; // nibbles
};
static_assert(sizeof(qs_block_q4_1) == QS_BB, "Q4_1 block size");

// ---- float32 paths: q * d + m (one rounding each: ggml's dequantize_row_q4_1)
#define QS_HAS_OFFSET 1
__device__ __forceinline__ void qs_dq8s(const qs_u8* b, int j, float* q, float& scale, float& offset) {
  scale = qs_h2f(qs_ld16(b));
  offset = qs_h2f(qs_ld16(b + 2));
  qs_u32 lo, hi;
  qs_ld8b(b + 4 + (j & 1) * 8, lo, hi);
  const int sh = (j >> 1) * 4;
  lo = (lo >> sh) & 0x0F0F0F0Fu;
  hi = (hi >> sh) & 0x0F0F0F0Fu;
#pragma unroll
  for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 0.f);
}

// ---- int8 small kernel: one part per block; d * dx * sum(q * xq) + m * sum(x)
#define QS_Q8_P 1
// launch table from sweeps on the H200 (n = 4096, k = 14336, hot us): m = 1 4 rows x 2 warps, loading
// a batch ahead (QS_Q8_PT) 8.5 (2 x 8, two units per batch, plain: 11.0); m = 3 ahead 12.5 (plain
// 14.6); m = 4 plain 13.6 (ahead 13.8). m = 3 then moved to 4 x 2 ahead, on an H100 (hot us, two sweep
// runs and the build) 11.8, 11.8, 11.6 against 13.1, 13.1, 13.0 for 8 x 2 ahead
#define QS_Q8_RT 4, 8, 4, 8, 8, 8, 8, 8
#define QS_Q8_RT_AMD 4, 8, 4, 4, 4, 4, 4, 4
#define QS_Q8_WT 2, 2, 2, 2, 2, 2, 2, 2
#define QS_Q8_DT 1, 2, 1, 1, 1, 1, 1, 1
#define QS_Q8_PT 1, 0, 1, 0, 0, 0, 0, 0
struct qs_q8w {
  int v[8]; // v[0..3] low nibbles (elements 0..15), v[4..7] high nibbles (16..31), as bytes
  float d, m;
};
struct qs_q8r {
  qs_u32 t[6]; // the aligned words covering the 20-byte block
  int sh;
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r& r) {
  (void)p;
  qs_ldwords<6>(b, r.t, r.sh);
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r& r, int p, qs_q8w& u) {
  (void)p;
  // the values of qs_nibbles, decoded word by word: the instruction order of the measured GGUF-row kernel
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int a = qs_funnel(r.t, i + 1, r.sh); // bytes 4.. of the block
    u.v[i] = a & 0x0F0F0F0F;
    u.v[4 + i] = (a >> 4) & 0x0F0F0F0F;
  }
  const qs_u32 dm = (qs_u32)qs_funnel(r.t, 0, r.sh);
  u.d = qs_h2f(dm & 0xffffu);
  u.m = qs_h2f(dm >> 16);
}
// Split rows (qs_format.h, qs_small_q8.h): each row's 16-byte nibble runs, then its (d, m) pairs; a unit is
// one aligned 16-byte load and one 4-byte load, with no word alignment. On an H100 (n = 4096, k = 14336,
// hot, us, GGUF / split rows, one call) m = 2, 3, 4, 5, 8 take 11.8 / 11.3, 13.9 / 13.0, 14.9 / 13.7,
// 15.9 / 15.1, 19.7 / 19.6, but m = 1 9.7 / 13.6 (cold 15.2 / 15.7), so m = 1 keeps GGUF rows (as Q4_0,
// whose m = 1 kernel also slows with them; docs/design.md, "Split rows").
#define QS_SPLIT_N 2
#define QS_SPLIT_OFF(i) ((i) == 0 ? 4 : 0)
#define QS_SPLIT_LEN(i) ((i) == 0 ? 16 : 4)
#define QS_Q8_ST 0, 1, 1, 1, 1, 1, 1, 1
struct qs_q8rs {
  uint4 q;
  qs_u32 dm;
};
__device__ __forceinline__ void qs_q8_load_split(const qs_u8* row, int kb, int nb, int p, qs_q8rs& r) {
  (void)p;
  r.q = qs_ldg16(row + (qs_i64)QS_SPLIT_POS(0, kb, nb));
  r.dm = qs_ldg4(row + (qs_i64)QS_SPLIT_POS(1, kb, nb));
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8rs& r, int p, qs_q8w& u) {
  (void)p;
  const qs_u32 a[4] = {r.q.x, r.q.y, r.q.z, r.q.w};
  qs_nibbles(a, u.v);
  u.d = qs_h2f(r.dm & 0xffffu);
  u.m = qs_h2f(r.dm >> 16);
}
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const int s = qs_dot32(u.v, xq);
  const float2 ds = xd[0];
  return u.d * (ds.x * qs_sumf(s)) + u.m * ds.y;
}

// ---- int8 matrix-unit kernel: a slice (128 elements) is 4 whole blocks; weights q (0..15), the offset
// m per 32 added by the tf32 offset term with the exact float sums of x
#define QS_I8_DEF_MINB 2
#define QS_I8_DEF_JUNROLL 1
#define QS_I8_DEF_STAGES 3
#define QS_I8_NV 6   // 80 bytes from a 4-byte-aligned start
#define QS_I8_RS 112
#define QS_I8_NSC 2  // d and m per 32
#define QS_I8_OFFSET 1
#include "qs_i8_block32.h"
__device__ __forceinline__ void qs_i8_frag(const qs_u8* p, int rbm, int st, int j, int t, qs_u32& b0, qs_u32& b1) {
  const qs_u32 v = qs_ld4(QS_I8_BLOCK(p, rbm, st, j) + 4 + 4 * t);
  b0 = v & 0x0F0F0F0Fu;
  b1 = (v >> 4) & 0x0F0F0F0Fu;
}
