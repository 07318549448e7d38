// QuantScope kernels for Q8_0 weights (ggml type 8); the shared code is in qs_kernels.h.
#define QS_TYPE 8
#include "qs_kernels.h"
