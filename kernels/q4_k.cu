// QuantScope kernels for Q4_K weights (ggml type 12); the shared code is in qs_kernels.h.
#define QS_TYPE 12
#include "qs_kernels.h"
