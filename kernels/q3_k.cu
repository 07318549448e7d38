// QuantScope kernels for Q3_K weights (ggml type 11): the format's traits are in q3_k.h, the shared
// kernels in qs_kernels.h.
#include "q3_k.h"
#include "qs_kernels.h"
