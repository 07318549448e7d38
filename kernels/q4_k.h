// QuantScope format traits: Q4_K (ggml type 12); the layout and the code it shares with Q5_K are in
// qs_kquant.h. qs_format.h lists the traits.
#pragma once
#include "qs_format.h"

#define QS_TYPE 12
#define QS_QK 256
#define QS_BB 144
struct qs_block_q4_k {
  qs_u16 d, dmin;     // float16 super-block scales
  qs_u8 scales[12];   // 6-bit scales and mins of the 8 sub-blocks
  qs_u8 qs[128];      // nibbles
};
static_assert(sizeof(qs_block_q4_k) == QS_BB, "Q4_K block size");

// m = 1: 4 rows x 4 warps, 9.0 us hot on the H200 (n = 4096, k = 14336; 4 x 8: 10.0, 4 x 2: 9.4), 12.5 cold
// (4 x 8: 12.2)
#define QS_Q8_RT 4, 8, 8, 8, 8, 8, 8, 8
#define QS_Q8_RT_AMD 2, 2, 2, 2, 2, 2, 1, 1
#define QS_Q8_WT 4, 2, 2, 2, 2, 2, 2, 2
#define QS_Q8_DT 1, 1, 1, 1, 1, 1, 1, 1
#define QS_Q8_KT 4, 4, 8, 8, 8, 8, 8, 8
#define QS_I8_DEF_MINB 2
#define QS_I8_DEF_JUNROLL 1
#define QS_I8_DEF_STAGES 2
#define QS_I8_NV 5
#define QS_I8_RS 80

#define QS_KQ_HIGH 0
#include "qs_kquant.h"
