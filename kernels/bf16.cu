// QuantScope kernels for BF16 weights (ggml type 30); the shared code is in qs_kernels.h.
#define QS_TYPE 30
#include "qs_kernels.h"
