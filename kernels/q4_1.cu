// QuantScope kernels for Q4_1 weights (ggml type 3): the format's traits are in q4_1.h, the shared
// kernels in qs_kernels.h.
#include "q4_1.h"
#include "qs_kernels.h"
