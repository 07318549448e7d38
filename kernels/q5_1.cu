// QuantScope kernels for Q5_1 weights (ggml type 7): the format's traits are in q5_1.h, the shared
// kernels in qs_kernels.h.
#include "q5_1.h"
#include "qs_kernels.h"
