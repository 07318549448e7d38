// QuantScope kernels for Q4_0 weights (ggml type 2): the format's traits are in q4_0.h, the shared
// kernels in qs_kernels.h.
#include "q4_0.h"
#include "qs_kernels.h"
