// QuantScope format traits: Q5_K (ggml type 13); the layout and the code it shares with Q4_K are in
// qs_kquant.h. qs_format.h lists the traits.
#pragma once
// The int8 small kernel loads its weights with L1 evict_first (QS_LDL1=2, qs_port.h; CUDA only). H100, n =
// 4096, k = 14336, hot, us: m = 1, 2, 4, 8 13.9, 16.7, 21.4, 32.0 against 14.1, 17.3, 21.8, 32.4 plain
// (docs/design.md, "Load width and load hints"). QS_KERNEL_DEFINES=QS_LDL1=0 gives the plain loads.
// H200: 11.4, 16.0, 20.9, 33.1 against 11.3, 16.3, 21.1, 33.3; cold m = 1 13.8 against 14.1.
#ifndef QS_LDL1
#define QS_LDL1 2
#endif
#include "qs_format.h"

#define QS_TYPE 13
#define QS_QK 256
#define QS_BB 176
struct qs_block_q5_k {
  qs_u16 d, dmin;     // float16 super-block scales
  qs_u8 scales[12];   // 6-bit scales and mins of the 8 sub-blocks
  qs_u8 qh[32];       // fifth bits
  qs_u8 qs[128];      // nibbles
};
static_assert(sizeof(qs_block_q5_k) == QS_BB, "Q5_K block size");

// m = 1: 4 rows x 4 warps, 11.0 us hot on the H200 (n = 4096, k = 14336; 4 x 8: 12.2), 14.2 cold (13.9)
#define QS_Q8_RT 4, 4, 4, 8, 8, 8, 8, 8
#define QS_Q8_RT_AMD 2, 4, 2, 2, 2, 2, 1, 1
#define QS_Q8_WT 4, 2, 2, 2, 2, 2, 2, 2
#define QS_Q8_DT 1, 1, 1, 1, 1, 1, 1, 1
#define QS_Q8_KT 4, 8, 8, 8, 8, 8, 8, 8
#define QS_I8_DEF_MINB 2
#define QS_I8_DEF_JUNROLL 1
#define QS_I8_DEF_STAGES 3
#define QS_I8_NV 7
#define QS_I8_RS 112

#define QS_KQ_HIGH 1
#include "qs_kquant.h"
