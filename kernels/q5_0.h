// QuantScope format traits: Q5_0 (ggml type 6), blocks of 32: w = d * (q - 16), q 5 bits: the nibble
// (elements 0..15 low, 16..31 high nibbles of qs) and bit e of the 32-bit qh for element e.
// qs_format.h lists the traits.
#pragma once
// The int8 small kernel loads its weights with L1 evict_first (QS_LDL1=2, qs_port.h; CUDA only). H100, n =
// 4096, k = 14336, hot, us: m = 1, 2, 4, 8 14.1, 14.8, 18.5, 21.8 against 14.4, 15.4, 18.6, 22.3 plain;
// cold m = 1 17.0 against 17.3 (docs/design.md, "Load width and load hints"). QS_KERNEL_DEFINES=QS_LDL1=0
// gives the plain loads. H200: m = 8 20.5 against 21.0 and cold m = 1 13.7 against 14.0, but m = 1, 2
// 11.5, 12.8 against 11.3, 12.5.
#ifndef QS_LDL1
#define QS_LDL1 2
#endif
#include "qs_format.h"

#define QS_TYPE 6
#define QS_QK 32
#define QS_BB 22
struct qs_block_q5_0 {
  qs_u16 d;     // float16 scale
  qs_u8 qh[4];  // fifth bits, little-endian
  qs_u8 qs[16]; // nibbles
};
static_assert(sizeof(qs_block_q5_0) == QS_BB, "Q5_0 block size");

// ---- float32 paths
__device__ __forceinline__ void qs_dq8s(const qs_u8* b, int j, float* q, float& scale, float& offset) {
  offset = 0.f;
  scale = qs_h2f(qs_ld16(b));
  const qs_u32 qh = (qs_ld16(b + 2) | (qs_ld16(b + 4) << 16)) >> (8 * j); // bits of elements 8j ..
  qs_u32 lo, hi;
  qs_ld8b(b + 6 + (j & 1) * 8, lo, hi);
  const int sh = (j >> 1) * 4;
  lo = ((lo >> sh) & 0x0F0F0F0Fu) | qs_bits4_to_b4(qh);
  hi = ((hi >> sh) & 0x0F0F0F0Fu) | qs_bits4_to_b4(qh >> 4);
#pragma unroll
  for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 16.f);
}

// ---- int8 small kernel: one part per block; d * (dx * sum(q * xq) - 16 * sum(x))
#define QS_Q8_P 1
// launch table from sweeps on the H200 (n = 4096, k = 14336, hot us): m = 1 2 rows x 4 warps, loading
// a batch ahead (QS_Q8_PT) 11.0 (2 x 8, two units per batch, plain: 15.2); m = 3, 4 ahead 14.8, 15.8
// (plain 16.8, 20.0). Then, on an H100 (hot us, two sweep runs and the build), m = 1 moved to 4 x 2
// ahead, 12.4, 12.4, 13.2 against 13.5, 13.5, 13.6 for 2 x 4 ahead, and m = 2 to 2 x 4 with one unit per
// batch, 14.2, 14.2, 14.3 against 15.1, 15.1, 15.0 for 8 x 2 with two units
#define QS_Q8_RT 4, 2, 8, 8, 8, 8, 8, 8
#define QS_Q8_RT_AMD 2, 2, 8, 4, 4, 4, 4, 2
#define QS_Q8_WT 2, 4, 2, 2, 2, 2, 2, 2
#define QS_Q8_DT 1, 1, 1, 1, 1, 1, 1, 1
#define QS_Q8_PT 1, 0, 1, 1, 0, 0, 0, 0
struct qs_q8w {
  int v[8]; // q (0..31) as bytes: v[0..3] elements 0..15, v[4..7] 16..31
  float d;
};
struct qs_q8r {
  qs_u32 t[6]; // the aligned words covering the 22-byte block
  int sh;
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r& r) {
  (void)p;
  qs_ldwords<6>(b, r.t, r.sh);
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r& r, int p, qs_q8w& u) {
  (void)p;
  const qs_u32 qh = (qs_u32)qs_funnel(r.t, 0, 16 + r.sh);
  const qs_u32 a[4] = {(qs_u32)qs_funnel(r.t, 1, 16 + r.sh), (qs_u32)qs_funnel(r.t, 2, 16 + r.sh),
                        (qs_u32)qs_funnel(r.t, 3, 16 + r.sh), (qs_u32)qs_funnel(r.t, 4, 16 + r.sh)}; // bytes 6..
  qs_nibbles5(a, qh, u.v);
  u.d = qs_h2f((r.t[0] >> r.sh) & 0xffffu);
}
// Split rows (qs_format.h, qs_small_q8.h): each row's 16-byte nibble runs, then its 4-byte fifth-bit words,
// then its float16 scales; a unit is one aligned 16-byte load, one 4-byte and one 2-byte load. On an H100
// (n = 4096, k = 14336, hot, us, GGUF / split rows, one call) m = 1, 5, 8 take 13.9 / 13.7, 18.4 / 17.8,
// 21.7 / 21.0 (cold m = 1 81% / 85% of the copy bandwidth), m = 2, 3, 4 14.9 / 15.0, 16.5 / 16.8, 18.3 /
// 18.8. Every m reads them: once the copy exists, the GGUF-row kernels of m = 2 to 4 measured slower than
// the split ones (17.3, 19.7, 20.9; docs/design.md, "Split rows").
#define QS_SPLIT_N 3
#define QS_SPLIT_OFF(i) ((i) == 0 ? 6 : (i) == 1 ? 2 : 0)
#define QS_SPLIT_LEN(i) ((i) == 0 ? 16 : (i) == 1 ? 4 : 2)
#define QS_Q8_ST 1, 1, 1, 1, 1, 1, 1, 1
struct qs_q8rs {
  uint4 q;
  qs_u32 qh, d;
};
__device__ __forceinline__ void qs_q8_load_split(const qs_u8* row, int kb, int nb, int p, qs_q8rs& r) {
  (void)p;
  r.q = qs_ldg16(row + (qs_i64)QS_SPLIT_POS(0, kb, nb));
  r.qh = qs_ldg4(row + (qs_i64)QS_SPLIT_POS(1, kb, nb));
  r.d = qs_ld16(row + (qs_i64)QS_SPLIT_POS(2, kb, nb));
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8rs& r, int p, qs_q8w& u) {
  (void)p;
  const qs_u32 a[4] = {r.q.x, r.q.y, r.q.z, r.q.w};
  qs_nibbles5(a, r.qh, u.v);
  u.d = qs_h2f(r.d);
}
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const int s = qs_dot32(u.v, xq);
  const float2 ds = xd[0];
  return u.d * (ds.x * qs_sumf(s) - 16.f * ds.y);
}

// ---- int8 matrix-unit kernel: a slice (128 elements) is 4 whole blocks; weights q - 16
#define QS_I8_DEF_MINB 2
#define QS_I8_DEF_JUNROLL 1
#define QS_I8_DEF_STAGES 3
#define QS_I8_NV 7   // 88 bytes from a 2-byte-aligned start
#define QS_I8_RS 112
#define QS_I8_NSC 1
#include "qs_i8_block32.h"
__device__ __forceinline__ void qs_i8_frag(const qs_u8* p, int rbm, int st, int j, int t, qs_u32& b0, qs_u32& b1) {
  const qs_u8* b = QS_I8_BLOCK(p, rbm, st, j);
  const qs_u32 qh = qs_ld4(b + 2), v = qs_ld4(b + 6 + 4 * t);
  // q (0..31) + 0x70 = q - 16 + 0x80 without carries; ^ 0x80: q - 16 as a signed byte
  b0 = (((v & 0x0F0F0F0Fu) | qs_bits4_to_b4(qh >> (4 * t))) + 0x70707070u) ^ 0x80808080u;
  b1 = ((((v >> 4) & 0x0F0F0F0Fu) | qs_bits4_to_b4(qh >> (16 + 4 * t))) + 0x70707070u) ^ 0x80808080u;
}
