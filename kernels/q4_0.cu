// QuantScope kernels for Q4_0 weights (ggml type 2); the shared code is in qs_kernels.h.
#define QS_TYPE 2
#include "qs_kernels.h"
