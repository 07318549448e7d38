// QuantScope kernels for Q5_0 weights (ggml type 6): the format's traits are in q5_0.h, the shared
// kernels in qs_kernels.h.
#include "q5_0.h"
#include "qs_kernels.h"
