// QuantScope kernels for Q5_K weights (ggml type 13): the format's traits are in q5_k.h, the shared
// kernels in qs_kernels.h.
#include "q5_k.h"
#include "qs_kernels.h"
