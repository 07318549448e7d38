// Scalar reference dequantization for test/kernels/host-math.test.ts, independent of the kernel headers:
// element by element, in the float32 arithmetic of ggml's dequantize_row_* (build with
// -ffp-contract=off). The formats whose TypeScript codec the test also has are checked against both.
//   usage: reference <ggml type id> <in> <out>   in: int32 n, k, then n rows of blocks; out: n*k float32
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

static float half(const uint8_t* p) {
  const uint32_t h = p[0] | (p[1] << 8), s = (h & 0x8000u) << 16, e = (h >> 10) & 31, f = h & 1023;
  uint32_t bits;
  if (e == 0) {
    const float v = std::ldexp((float)f, -24);
    return s ? -v : v;
  }
  bits = e == 31 ? (s | 0x7f800000u | (f << 13)) : (s | ((e + 112) << 23) | (f << 13));
  float r;
  std::memcpy(&r, &bits, 4);
  return r;
}

static const int8_t IQ4NL[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// one block of qk elements at b -> y
static bool block(int type, const uint8_t* b, float* y) {
  switch (type) {
    case 2: { // Q4_0
      const float d = half(b);
      for (int j = 0; j < 16; j++) {
        y[j] = (float)((b[2 + j] & 15) - 8) * d;
        y[j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
      }
      return true;
    }
    case 3: { // Q4_1
      const float d = half(b), m = half(b + 2);
      for (int j = 0; j < 16; j++) {
        y[j] = (float)(b[4 + j] & 15) * d + m;
        y[j + 16] = (float)(b[4 + j] >> 4) * d + m;
      }
      return true;
    }
    case 6:   // Q5_0
    case 7: { // Q5_1
      const bool one = type == 7;
      const float d = half(b), m = one ? half(b + 2) : 0.f;
      const uint8_t* qhp = b + (one ? 4 : 2);
      const uint32_t qh = qhp[0] | (qhp[1] << 8) | (qhp[2] << 16) | ((uint32_t)qhp[3] << 24);
      const uint8_t* qs = qhp + 4;
      for (int j = 0; j < 16; j++) {
        const int x0 = (qs[j] & 15) | (((qh >> j) & 1) << 4), x1 = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
        if (one) {
          y[j] = (float)x0 * d + m;
          y[j + 16] = (float)x1 * d + m;
        } else {
          y[j] = (float)(x0 - 16) * d;
          y[j + 16] = (float)(x1 - 16) * d;
        }
      }
      return true;
    }
    case 8: { // Q8_0
      const float d = half(b);
      for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)b[2 + j] * d;
      return true;
    }
    case 10: { // Q2_K
      const float d = half(b + 80), dmin = half(b + 82);
      for (int e = 0; e < 256; e++) {
        const int h = e / 128, t = (e / 32) % 4, l = e % 32, sc = b[8 * h + 2 * t + l / 16];
        const float dl = d * (float)(sc & 15), ml = dmin * (float)(sc >> 4);
        y[e] = dl * (float)((b[16 + 32 * h + l] >> (2 * t)) & 3) - ml;
      }
      return true;
    }
    case 11: { // Q3_K
      const float d = half(b + 108);
      for (int e = 0; e < 256; e++) {
        const int h = e / 128, t = (e / 32) % 4, l = e % 32, is = 8 * h + 2 * t + l / 16;
        const int sc = ((b[96 + is % 8] >> (4 * (is / 8))) & 15) | (((b[104 + is % 4] >> (2 * (is / 4))) & 3) << 4);
        const float dl = d * (float)(sc - 32);
        const int q = ((b[32 + 32 * h + l] >> (2 * t)) & 3) - ((b[l] >> (4 * h + t)) & 1 ? 0 : 4);
        y[e] = dl * (float)q;
      }
      return true;
    }
    case 20: { // IQ4_NL
      const float d = half(b);
      for (int j = 0; j < 16; j++) {
        y[j] = d * (float)IQ4NL[b[2 + j] & 15];
        y[j + 16] = d * (float)IQ4NL[b[2 + j] >> 4];
      }
      return true;
    }
    case 23: { // IQ4_XS
      const float d = half(b);
      const int sh = b[2] | (b[3] << 8);
      for (int ib = 0; ib < 8; ib++) {
        const int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 15) | (((sh >> (2 * ib)) & 3) << 4);
        const float dl = d * (float)(ls - 32);
        for (int j = 0; j < 16; j++) {
          y[32 * ib + j] = dl * (float)IQ4NL[b[8 + 16 * ib + j] & 15];
          y[32 * ib + j + 16] = dl * (float)IQ4NL[b[8 + 16 * ib + j] >> 4];
        }
      }
      return true;
    }
    default:
      return false;
  }
}

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const int type = std::atoi(argv[1]);
  int qk, bb;
  switch (type) {
    case 2: qk = 32, bb = 18; break;
    case 3: qk = 32, bb = 20; break;
    case 6: qk = 32, bb = 22; break;
    case 7: qk = 32, bb = 24; break;
    case 8: qk = 32, bb = 34; break;
    case 10: qk = 256, bb = 84; break;
    case 11: qk = 256, bb = 110; break;
    case 20: qk = 32, bb = 18; break;
    case 23: qk = 256, bb = 136; break;
    default: fprintf(stderr, "reference: no reference for ggml type %d\n", type); return 2;
  }
  FILE* f = fopen(argv[2], "rb");
  if (!f) return 3;
  int hdr[3];
  if (fread(hdr, 4, 3, f) != 3) return 4;
  const int n = hdr[0], k = hdr[1];
  std::vector<uint8_t> w((size_t)n * (k / qk) * bb);
  if (fread(w.data(), 1, w.size(), f) != w.size()) return 5;
  fclose(f);
  std::vector<float> y((size_t)n * k);
  for (size_t i = 0; i < (size_t)n * (k / qk); i++)
    if (!block(type, w.data() + i * bb, y.data() + i * qk)) return 6;
  FILE* o = fopen(argv[3], "wb");
  if (!o) return 7;
  fwrite(y.data(), 4, y.size(), o);
  fclose(o);
  return 0;
}
