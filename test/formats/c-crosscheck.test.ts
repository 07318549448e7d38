/**
 * Cross-checks the dequantizers bit for bit against an independent C implementation of the layouts in docs/formats.md
 * (float32 C arithmetic, halves widened by the compiler's _Float16), compiled twice: with FMA
 * contraction off, and with -march=native -ffp-contract=fast (what a GCC build of llama.cpp may do).
 * Needs gcc; skipped (and reported as skipped) without it.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codecFor, dequantize, f32ToFp16, quantize } from '../../src-main/engine/formats';

const C_SRC = String.raw`
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

static float h2f(const uint8_t *p) { _Float16 h; memcpy(&h, p, 2); return (float)h; }

static void scale_min(int j, const uint8_t *s, int *sc, int *m) {
  if (j < 4) { *sc = s[j] & 63; *m = s[j + 4] & 63; }
  else { *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4); *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4); }
}

static void put_half(uint8_t *p, float x) { _Float16 h = (_Float16)x; memcpy(p, &h, 2); }

/* the 16 non-linear levels of IQ4_NL / IQ4_XS */
static const int8_t kv4[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/* modes 100+: encoders. 100: float -> half for each float; 102 / 108: Q4_0 / Q8_0 quantizer of the
   ggml reference algorithm (amax scaling, float arithmetic) */
static int encode(int mode, long nb, const uint8_t *in) {
  const float *x = (const float *)in;
  uint8_t out[34];
  for (long i = 0; i < nb; i++) {
    if (mode == 100) { put_half(out, x[i]); fwrite(out, 1, 2, stdout); continue; }
    const float *v = x + 32 * i;
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; j++) {
      float a = v[j] < 0 ? -v[j] : v[j];
      if (mode == 102 ? amax < a : a > amax) { amax = a; max = v[j]; }
    }
    if (mode == 102) {
      const float d = max / -8;
      const float id = d ? 1.0f / d : 0.0f;
      put_half(out, d);
      for (int j = 0; j < 16; j++) {
        int a = (int8_t)(v[j] * id + 8.5f), b = (int8_t)(v[16 + j] * id + 8.5f);
        out[2 + j] = (uint8_t)((a > 15 ? 15 : a) | ((b > 15 ? 15 : b) << 4));
      }
      fwrite(out, 1, 18, stdout);
    } else {
      const float d = amax / 127;
      const float id = d ? 1.0f / d : 0.0f;
      put_half(out, d);
      for (int j = 0; j < 32; j++) { float t = v[j] * id; out[2 + j] = (uint8_t)(int8_t)roundf(t); }
      fwrite(out, 1, 34, stdout);
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  int type = atoi(argv[1]);
  long nb = atol(argv[2]);
  static uint8_t buf[1 << 22];
  size_t got = fread(buf, 1, sizeof buf, stdin);
  (void)got;
  if (type >= 100) return encode(type, nb, buf);
  float y[256];
  const uint8_t *b = buf;
  for (long i = 0; i < nb; i++) {
    int n = 0;
    if (type == 2) {
      float d = h2f(b);
      for (int j = 0; j < 16; j++) { y[j] = ((b[2 + j] & 15) - 8) * d; y[j + 16] = ((b[2 + j] >> 4) - 8) * d; }
      b += 18; n = 32;
    } else if (type == 8) {
      float d = h2f(b);
      for (int j = 0; j < 32; j++) y[j] = (int8_t)b[2 + j] * d;
      b += 34; n = 32;
    } else if (type == 12 || type == 13) {
      float d = h2f(b), dmin = h2f(b + 2);
      const uint8_t *s = b + 4, *qh = b + 16, *qs = b + (type == 12 ? 16 : 48);
      for (int g = 0; g < 4; g++) {
        int sc, m;
        scale_min(2 * g, s, &sc, &m);
        float d1 = d * sc, m1 = dmin * m;
        scale_min(2 * g + 1, s, &sc, &m);
        float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; l++) {
          int lo = qs[32 * g + l] & 15, hi = qs[32 * g + l] >> 4;
          if (type == 13) { lo += (qh[l] & (1 << (2 * g))) ? 16 : 0; hi += (qh[l] & (2 << (2 * g))) ? 16 : 0; }
          y[64 * g + l] = d1 * lo - m1;
          y[64 * g + 32 + l] = d2 * hi - m2;
        }
      }
      b += (type == 12 ? 144 : 176); n = 256;
    } else if (type == 14) {
      float d = h2f(b + 208);
      for (int h = 0; h < 2; h++) {
        const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
        const int8_t *sc = (const int8_t *)(b + 192 + 8 * h);
        for (int l = 0; l < 32; l++) {
          int is = l / 16;
          int q1 = (int)((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32;
          int q2 = (int)((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
          int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
          int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
          y[128 * h + l] = d * sc[is] * q1;
          y[128 * h + l + 32] = d * sc[is + 2] * q2;
          y[128 * h + l + 64] = d * sc[is + 4] * q3;
          y[128 * h + l + 96] = d * sc[is + 6] * q4;
        }
      }
      b += 210; n = 256;
    } else if (type == 3 || type == 7) {
      /* Q4_1 {d, m, qs[16]} / Q5_1 {d, m, qh u32, qs[16]}: level * d + m */
      float d = h2f(b), m = h2f(b + 2);
      uint32_t qh = 0;
      if (type == 7) memcpy(&qh, b + 4, 4);
      const uint8_t *qs = b + (type == 3 ? 4 : 8);
      for (int j = 0; j < 16; j++) {
        int lo = qs[j] & 15, hi = qs[j] >> 4;
        if (type == 7) { lo |= ((qh >> j) & 1) << 4; hi |= ((qh >> (j + 16)) & 1) << 4; }
        y[j] = lo * d + m;
        y[j + 16] = hi * d + m;
      }
      b += (type == 3 ? 20 : 24); n = 32;
    } else if (type == 6) {
      /* Q5_0 {d, qh u32, qs[16]}: (5-bit level - 16) * d */
      float d = h2f(b);
      uint32_t qh;
      memcpy(&qh, b + 2, 4);
      for (int j = 0; j < 16; j++) {
        int lo = (b[6 + j] & 15) | (((qh >> j) & 1) << 4);
        int hi = (b[6 + j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
        y[j] = (lo - 16) * d;
        y[j + 16] = (hi - 16) * d;
      }
      b += 22; n = 32;
    } else if (type == 10) {
      /* Q2_K {scales[16], qs[64], d, dmin}: walk the elements in storage order */
      float d = h2f(b + 80), dmin = h2f(b + 82);
      float *out = y;
      int is = 0;
      for (int half = 0; half < 2; half++) {
        const uint8_t *q = b + 16 + 32 * half;
        for (int shift = 0; shift < 8; shift += 2) {
          for (int part = 0; part < 2; part++) {
            uint8_t sc = b[is++];
            float dl = d * (sc & 15), ml = dmin * (sc >> 4);
            for (int l = 0; l < 16; l++) *out++ = dl * ((q[16 * part + l] >> shift) & 3) - ml;
          }
        }
      }
      b += 84; n = 256;
    } else if (type == 11) {
      /* Q3_K {hmask[32], qs[64], scales[12], d}: unpack the 16 scales with 32-bit masks */
      float d = h2f(b + 108);
      uint32_t a[4];
      memcpy(a, b + 96, 12);
      uint32_t t = a[2];
      a[2] = ((a[0] >> 4) & 0x0f0f0f0fu) | (((t >> 4) & 0x03030303u) << 4);
      a[3] = ((a[1] >> 4) & 0x0f0f0f0fu) | (((t >> 6) & 0x03030303u) << 4);
      a[0] = (a[0] & 0x0f0f0f0fu) | ((t & 0x03030303u) << 4);
      a[1] = (a[1] & 0x0f0f0f0fu) | (((t >> 2) & 0x03030303u) << 4);
      const int8_t *sc = (const int8_t *)a;
      float *out = y;
      int is = 0;
      uint8_t mask = 1;
      for (int half = 0; half < 2; half++) {
        const uint8_t *q = b + 32 + 32 * half;
        for (int shift = 0; shift < 8; shift += 2, mask <<= 1) {
          for (int part = 0; part < 2; part++) {
            float dl = d * (sc[is++] - 32);
            for (int l = 0; l < 16; l++) {
              int lev = ((q[16 * part + l] >> shift) & 3) - ((b[16 * part + l] & mask) ? 0 : 4);
              *out++ = dl * lev;
            }
          }
        }
      }
      b += 110; n = 256;
    } else if (type == 20) {
      /* IQ4_NL {d, qs[16]}: d * table[nibble] */
      float d = h2f(b);
      for (int j = 0; j < 16; j++) { y[j] = d * kv4[b[2 + j] & 15]; y[j + 16] = d * kv4[b[2 + j] >> 4]; }
      b += 18; n = 32;
    } else if (type == 23) {
      /* IQ4_XS {d, scales_h u16, scales_l[4], qs[128]}: (d * (ls - 32)) * table[nibble] */
      float d = h2f(b);
      uint16_t sh;
      memcpy(&sh, b + 2, 2);
      for (int ib = 0; ib < 8; ib++) {
        int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 15) | (((sh >> (2 * ib)) & 3) << 4);
        float dl = d * (ls - 32);
        const uint8_t *qs = b + 8 + 16 * ib;
        for (int j = 0; j < 16; j++) { y[32 * ib + j] = dl * kv4[qs[j] & 15]; y[32 * ib + 16 + j] = dl * kv4[qs[j] >> 4]; }
      }
      b += 136; n = 256;
    } else if (type == 1) {
      y[0] = h2f(b); b += 2; n = 1;
    }
    fwrite(y, 4, n, stdout);
  }
  return 0;
}
`;

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const GCC = hasGcc();
let dir = '';
const bins: string[] = [];

/** Deterministic pseudo-random bytes (xorshift32). */
function randomBytes(n: number, seed: number): Uint8Array {
  let s = seed >>> 0 || 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s & 255;
  }
  return out;
}

/** Byte offsets of the half scales per type (written from the layouts, not read from the registry). */
const SCALE_OFFS: Record<number, number[]> = {
  1: [],
  3: [0, 2],
  7: [0, 2],
  10: [80, 82],
  11: [108],
  12: [0, 2],
  13: [0, 2],
  14: [208],
};

/** Random blocks with finite, moderate half scales (so every element value is a real comparison). */
function blocks(type: number, nb: number, seed: number): Uint8Array {
  const c = codecFor(type);
  const b = randomBytes(nb * c.blockBytes, seed);
  const scaleOffs = SCALE_OFFS[type] ?? [0];
  for (let i = 0; i < nb; i++) {
    for (const o of scaleOffs) b[i * c.blockBytes + o + 1] &= 0xbb; // exponent <= 0x1b: no inf/NaN
  }
  return b;
}

describe.skipIf(!GCC)('bit-exact against an independent C dequantizer (gcc)', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qs-formats-'));
    const src = join(dir, 'deq.c');
    writeFileSync(src, C_SRC);
    for (const [name, flags] of [
      ['nofma', ['-O2', '-ffp-contract=off']],
      ['fma', ['-O2', '-march=native', '-ffp-contract=fast']],
    ] as const) {
      const out = join(dir, name);
      execFileSync('gcc', [...flags, '-o', out, src, '-lm']);
      bins.push(out);
    }
    return () => rmSync(dir, { recursive: true, force: true });
  });

  for (const type of [2, 8, 12, 13, 14, 3, 6, 7, 10, 11, 20, 23, 1]) {
    it(`${codecFor(type).name}: every element of ${type === 1 ? 'all 65536 half patterns' : '300 random blocks'} matches`, () => {
      const c = codecFor(type);
      const nb = type === 1 ? 65536 : 300;
      let data: Uint8Array;
      if (type === 1) {
        data = new Uint8Array(2 * 65536); // every half bit pattern
        for (let h = 0; h < 65536; h++) {
          data[2 * h] = h & 255;
          data[2 * h + 1] = h >> 8;
        }
      } else data = blocks(type, nb, 77 + type);
      const k = nb * c.blockElems;
      const js = dequantize(type, data, 1, k);
      const jsBits = new Uint32Array(js.buffer);
      for (const bin of bins) {
        const out = execFileSync(bin, [String(type), String(nb)], { input: data, maxBuffer: 1 << 26 });
        const cf = new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
        expect(cf.length).toBe(k);
        const cBits = new Uint32Array(cf.buffer);
        const bad: string[] = [];
        for (let i = 0; i < k; i++) {
          const same = Number.isNaN(js[i]) ? Number.isNaN(cf[i]) : jsBits[i] === cBits[i];
          if (!same && bad.length < 5) bad.push(`element ${i}: js ${js[i]} c ${cf[i]}`);
        }
        expect(bad, bin).toEqual([]);
      }
    });
  }

  it("f32ToFp16 matches the compiler's float -> _Float16 conversion on 200k float bit patterns", () => {
    const n = 200_000;
    const bits = new Uint32Array(randomBytes(4 * n, 5).buffer);
    // bias half of them into the interesting range around the half exponents (subnormals .. overflow)
    for (let i = 0; i < n; i += 2) bits[i] = (bits[i] & 0x807fffff) | ((0x60 + (bits[i] % 0x20)) << 23);
    const f = new Float32Array(bits.buffer);
    const bytes = new Uint8Array(bits.buffer);
    for (const bin of bins) {
      const out = execFileSync(bin, ['100', String(n)], { input: bytes, maxBuffer: 1 << 26 });
      const bad: string[] = [];
      for (let i = 0; i < n; i++) {
        const c = out[2 * i] | (out[2 * i + 1] << 8);
        const js = f32ToFp16(f[i]);
        const nan = (c & 0x7c00) === 0x7c00 && (c & 0x3ff) !== 0;
        const ok = nan ? (js & 0x7e00) === 0x7e00 && (js & 0x8000) === (c & 0x8000) : js === c;
        if (!ok && bad.length < 5)
          bad.push(`0x${bits[i].toString(16)}: js 0x${js.toString(16)} c 0x${c.toString(16)}`);
      }
      expect(bad, bin).toEqual([]);
    }
  });

  for (const type of [2, 8]) {
    it(`${codecFor(type).name} quantizer gives the same bytes as the C reference algorithm`, () => {
      const nb = 2000;
      const x = new Float32Array(32 * nb);
      const r = new Uint32Array(randomBytes(4 * x.length, 11 + type).buffer);
      for (let i = 0; i < x.length; i++) x[i] = ((r[i] / 2 ** 32) * 2 - 1) * 2 ** (((i >> 5) % 24) - 12);
      const js = quantize(type, x, nb, 32);
      for (const bin of bins) {
        const out = execFileSync(bin, [String(100 + type), String(nb)], {
          input: new Uint8Array(x.buffer),
          maxBuffer: 1 << 26,
        });
        let first = -1;
        for (let i = 0; i < js.length && first < 0; i++) if (js[i] !== out[i]) first = i;
        expect(first, `${bin}: first differing byte`).toBe(-1);
        expect(out.length).toBe(js.length);
      }
    });
  }
});
