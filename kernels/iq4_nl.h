// QuantScope format traits: IQ4_NL (ggml type 20), blocks of 32: w = d * v[q], q a 4-bit index (elements
// 0..15 in the low nibbles of qs, 16..31 in the high ones) into the 16 non-linear values v
// (qs_iq4nl_values). qs_format.h lists the traits.
#pragma once
// The int8 small kernel loads its weights with L1 evict_first (QS_LDL1=2, qs_port.h; CUDA only). H100, n =
// 4096, k = 14336, hot, us: m = 1, 2, 4, 8 13.9, 14.9, 17.1, 23.0 against 14.3, 15.3, 17.0, 24.0 plain;
// cold m = 1 16.1 against 16.4 (docs/design.md, "Load width and load hints"). QS_KERNEL_DEFINES=QS_LDL1=0
// gives the plain loads. H200: 13.6, 14.5, 16.6, 22.5 against 13.7, 14.7, 16.5, 23.4.
#ifndef QS_LDL1
#define QS_LDL1 2
#endif
#include "qs_format.h"

#define QS_TYPE 20
#define QS_QK 32
#define QS_BB 18
struct qs_block_iq4_nl {
  qs_u16 d;     // float16 scale
  qs_u8 qs[16]; // indices
};
static_assert(sizeof(qs_block_iq4_nl) == QS_BB, "IQ4_NL block size");

// ---- float32 paths
__device__ __forceinline__ void qs_dq8s(const qs_u8* b, int j, float* q, float& scale, float& offset) {
  offset = 0.f;
  scale = qs_h2f(qs_ld16(b));
  qs_u32 lo, hi;
  qs_ld8b(b + 2 + (j & 1) * 8, lo, hi);
  const int sh = (j >> 1) * 4;
  lo = qs_iq4nl_values((lo >> sh) & 0x0F0F0F0Fu) ^ 0x80808080u; // signed value v -> v + 128
  hi = qs_iq4nl_values((hi >> sh) & 0x0F0F0F0Fu) ^ 0x80808080u;
#pragma unroll
  for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 128.f);
}

// ---- int8 small kernel: one part per block; d * dx * sum(v[q] * xq)
// launch table from a sweep on the H200 (n = 4096, k = 14336, hot / cold us): m = 1 2 rows x 2 warps
// 13.6 / 15.1 (Q4_0's 2 x 8: 17.4 / 19.6), m = 3 4 x 4 (H100: 15.1, against 18.2 with 4 x 2), m = 4
// 4 x 2 16.4 (8 x 2: 22.8). m = 2: 8 x 4, one unit per batch, on an H100 (hot us, two sweep runs and the
// build) 13.2, 13.2, 13.2 against 14.8, 14.7, 14.8 for 2 x 2 with two units (14.7 on the H200)
#define QS_Q8_P 1
#define QS_Q8_RT 2, 8, 4, 4, 8, 8, 8, 8
#define QS_Q8_RT_AMD 2, 2, 4, 4, 4, 4, 2, 2
#define QS_Q8_WT 2, 4, 4, 2, 2, 2, 2, 2
#define QS_Q8_DT 2, 1, 1, 1, 1, 1, 1, 1
struct qs_q8w {
  int v[8]; // the values as signed bytes: v[0..3] elements 0..15, v[4..7] 16..31
  float d;
};
struct qs_q8r {
  qs_u32 t[5]; // the aligned words covering the 18-byte block
  int sh;
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r& r) {
  (void)p;
  qs_ldwords<5>(b, r.t, r.sh);
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r& r, int p, qs_q8w& u) {
  (void)p;
  const qs_u32 a[4] = {(qs_u32)qs_funnel(r.t, 0, 16 + r.sh), (qs_u32)qs_funnel(r.t, 1, 16 + r.sh),
                        (qs_u32)qs_funnel(r.t, 2, 16 + r.sh), (qs_u32)qs_funnel(r.t, 3, 16 + r.sh)}; // bytes 2..
  qs_iq4nl_words(a, u.v);
  u.d = qs_h2f((r.t[0] >> r.sh) & 0xffffu);
}
// Split rows (qs_format.h, qs_small_q8.h): each row's 16-byte index runs, then its float16 scales; a unit is
// one aligned 16-byte load and one 2-byte load, with no word alignment. On an H100 (n = 4096, k = 14336,
// hot, us, GGUF / split rows, one call) m = 1 to 4 take 14.1 / 13.5, 15.1 / 14.9, 16.9 / 15.5, 17.3 / 16.8
// (cold m = 1 71% / 75% of the copy bandwidth), m = 5 and 8 17.9 / 19.3 and 22.2 / 24.7. Every m reads
// them: once the copy exists, the GGUF-row kernels of m = 5 and 8 measured as slow as the split ones
// (19.4, 23.1), so a table that mixes the two gains nothing (docs/design.md, "Split rows").
#include "qs_split16.h"
#define QS_Q8_ST 1, 1, 1, 1, 1, 1, 1, 1
__device__ __forceinline__ void qs_q8_unpack(const qs_q8rs& r, int p, qs_q8w& u) {
  (void)p;
  const qs_u32 a[4] = {r.q.x, r.q.y, r.q.z, r.q.w};
  qs_iq4nl_words(a, u.v);
  u.d = qs_h2f(r.d);
}
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const int s = qs_dot32(u.v, xq);
  return u.d * xd[0].x * qs_sumf(s);
}

// ---- int8 matrix-unit kernel: a slice (128 elements) is 4 whole blocks; weights the values v[q]
#define QS_I8_DEF_MINB 2
#define QS_I8_DEF_JUNROLL 1
#define QS_I8_DEF_STAGES 3
#define QS_I8_NV 6
#define QS_I8_RS 112
#define QS_I8_NSC 1
#include "qs_i8_block32.h"
__device__ __forceinline__ void qs_i8_frag(const qs_u8* p, int rbm, int st, int j, int t, qs_u32& b0, qs_u32& b1) {
  const qs_u32 v = qs_ld4(QS_I8_BLOCK(p, rbm, st, j) + 2 + 4 * t);
  qs_iq4nl_pair(v, b0, b1);
}
