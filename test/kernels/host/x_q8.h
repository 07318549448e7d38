// qs_x_q8 (kernels/qs_q8.h) on the CPU, for the host harnesses: per 32 activations, lanes l = 0..7 hold 4
// each, amax and the sum go through the kernel's xor tree, and the scale and rounding are the kernel's own
// (qs_q8_scale, qs_q8_round). xq: m*k/4 words of 4 int8, xd: m*k/32 (d, sum).
#pragma once
#include <vector>

inline void qs_host_x_q8(const std::vector<float>& x, std::vector<int>& xq, std::vector<float2>& xd) {
  xq.assign(x.size() / 4, 0);
  xd.assign(x.size() / 32, make_float2(0.f, 0.f));
  for (size_t b = 0; b < xd.size(); b++) {
    const float* v = &x[b * 32];
    float amax = 0.f, bad = 0.f, p[8];
    for (int l = 0; l < 8; l++) {
      const float* q = v + 4 * l;
      amax = fmaxf(amax, fmaxf(fmaxf(fabsf(q[0]), fabsf(q[1])), fmaxf(fabsf(q[2]), fabsf(q[3]))));
      bad += (q[0] - q[0]) + (q[1] - q[1]) + (q[2] - q[2]) + (q[3] - q[3]);
      p[l] = (q[0] + q[1]) + (q[2] + q[3]);
    }
    const float sum = ((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7]));
    float d, id;
    qs_q8_scale(amax, d, id); // the kernel's own scale and rounding rule
    for (int l = 0; l < 8; l++) {
      const float* q = v + 4 * l;
      const int q0 = qs_q8_round(q[0] * id), q1 = qs_q8_round(q[1] * id);
      const int q2 = qs_q8_round(q[2] * id), q3 = qs_q8_round(q[3] * id);
      xq[b * 8 + l] = (q0 & 0xff) | ((q1 & 0xff) << 8) | ((q2 & 0xff) << 16) | (int)((qs_u32)(q3 & 0xff) << 24);
    }
    xd[b] = make_float2(bad == 0.f ? d : __int_as_float(0x7fc00000), sum);
  }
}
