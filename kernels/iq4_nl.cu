// QuantScope kernels for IQ4_NL weights (ggml type 20): the format's traits are in iq4_nl.h, the shared
// kernels in qs_kernels.h.
#include "iq4_nl.h"
#include "qs_kernels.h"
