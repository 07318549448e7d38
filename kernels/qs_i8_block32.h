// QuantScope: the int8 matrix-unit traits (qs_mma_i8.h, qs_wgmma_i8.h, qs_mfma_i8.h) shared by the formats
// of 32-element blocks that start with their float16 scale d (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL): a
// slice of 128 elements is 4 whole blocks of QS_BB bytes, copied as one span per row. A format with an
// offset term per 32 (QS_I8_OFFSET: Q4_1, Q5_1) keeps its float16 m right after d. The format header
// includes this after QS_BB and its QS_I8_* settings, and adds its own qs_i8_frag (the weights' bytes).
#pragma once

// vector v of a row's slot for slice st: the row's byte range [rel, rel+len) and v's index q in its span
__device__ __forceinline__ void qs_i8_piece(int v, int st, int nb, int& rel, int& len, int& q) {
  rel = st * 4 * QS_BB;
  len = min(4, nb - st * 4) * QS_BB;
  q = v;
}
// where 32-block j of slice st starts in the row's slot p (rbm: the row's start mod 16). A macro: as an
// inline function nvcc 13 emits other address arithmetic for the 64-row mma.sync tiles
#define QS_I8_BLOCK(p, rbm, st, j) ((p) + (((rbm) + (st) * 4 * QS_BB) & 15) + QS_BB * (j))
// the float scales of 32-block j of slice st: s0 = d, s2 = m (0 without an offset term); blocks past the
// row's end (nb blocks) are left alone
__device__ __forceinline__ void qs_i8_scale(const qs_u8* p, int rbm, int st, int j, int nb, float& s0, float& s2) {
#ifdef QS_I8_OFFSET
  if (st * 4 + j < nb) {
    const qs_u8* b = QS_I8_BLOCK(p, rbm, st, j);
    s0 = qs_h2f(qs_ld16(b));
    s2 = qs_h2f(qs_ld16(b + 2));
  }
#else
  s2 = 0.f;
  if (st * 4 + j < nb) s0 = qs_h2f(qs_ld16(QS_I8_BLOCK(p, rbm, st, j)));
#endif
}
