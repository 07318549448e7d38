// QuantScope kernels for Q5_K weights (ggml type 13); the shared code is in qs_kernels.h.
#define QS_TYPE 13
#include "qs_kernels.h"
