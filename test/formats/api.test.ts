import { describe, it, expect } from 'vitest';
import { codecFor, dequantize, quantize, scanScales } from '../../src-main/engine/formats';
import { GgmlType, SUPPORTED_TYPES } from '../../src-main/engine/ggml-types';
import { H_INF, H_NAN, H_ONE, putHalf } from './helpers';

describe('codecFor', () => {
  it('returns a codec for every supported type', () => {
    for (const t of SUPPORTED_TYPES) {
      const c = codecFor(t.id);
      expect([c.typeId, c.name, c.blockElems, c.blockBytes]).toEqual([
        t.id,
        t.name,
        t.blockElems,
        t.blockBytes,
      ]);
    }
  });

  it('names known-but-unsupported and unknown types', () => {
    expect(() => codecFor(GgmlType.Q8_K)).toThrow('Q8_K is not supported');
    expect(() => codecFor(GgmlType.IQ2_XXS)).toThrow('IQ2_XXS is not supported');
    expect(() => codecFor(99)).toThrow('type#99 is unknown');
    expect(() => codecFor(-1)).toThrow(/unknown/);
  });
});

describe('dequantize / quantize arguments', () => {
  it('rejects bad shapes and short buffers with one-line messages', () => {
    expect(() => dequantize(GgmlType.Q4_K, new Uint8Array(144), 1, 100)).toThrow(
      /Q4_K: row length k=100 is not a multiple of the block size 256/,
    );
    expect(() => dequantize(GgmlType.Q4_0, new Uint8Array(18), 2, 32)).toThrow(
      /Q4_0: 2x32 needs 36 bytes but only 18/,
    );
    expect(() => dequantize(GgmlType.Q8_0, new Uint8Array(34), -1, 32)).toThrow(/row count n=-1/);
    expect(() => dequantize(GgmlType.F16, new Uint8Array(4), 1.5, 2)).toThrow(/row count n=1.5/);
    expect(() => quantize(GgmlType.Q6_K, new Float32Array(255), 1, 256)).toThrow(
      /needs 256 values but only 255/,
    );
    expect(() => quantize(GgmlType.Q5_K, new Float32Array(32), 1, 32)).toThrow(
      /multiple of the block size 256/,
    );
    expect(() =>
      codecFor(GgmlType.Q4_0).dequantizeRow(new Uint8Array(18), 0, 31, new Float32Array(32), 0),
    ).toThrow(/k=31/);
    for (const t of SUPPORTED_TYPES) {
      const c = codecFor(t.id);
      const k = c.blockElems;
      // rows that would run past either array are refused instead of reading undefined / writing nothing
      expect(() => c.dequantizeRow(new Uint8Array(c.blockBytes), 1, k, new Float32Array(k), 0)).toThrow(
        new RegExp(`^${t.name}: a row of ${c.blockBytes} bytes at offset 1 does not fit`),
      );
      expect(() => c.dequantizeRow(new Uint8Array(c.blockBytes), 0, k, new Float32Array(k), 1)).toThrow(
        /floats at offset 1/,
      );
      expect(() => c.quantizeRow(new Float32Array(k - 1), 0, k, new Uint8Array(c.blockBytes), 0)).toThrow(
        /does not fit/,
      );
      expect(() => c.quantizeRow(new Float32Array(k), 0, k, new Uint8Array(c.blockBytes - 1), 0)).toThrow(
        /does not fit/,
      );
    }
  });

  it('refuses whole-tensor conversions beyond 2^30 elements before allocating', () => {
    expect(() => dequantize(GgmlType.Q4_0, new Uint8Array(18), 2 ** 26, 32)).toThrow(
      /too large to convert in one piece/,
    );
  });

  it('handles n = 0', () => {
    expect(dequantize(GgmlType.Q4_K, new Uint8Array(0), 0, 256).length).toBe(0);
    expect(quantize(GgmlType.Q4_K, new Float32Array(0), 0, 256).length).toBe(0);
  });

  it('respects srcOff/dstOff and writes nothing outside the row', () => {
    for (const t of SUPPORTED_TYPES) {
      const c = codecFor(t.id);
      const k = c.blockElems * 2;
      const rowBytes = (k / c.blockElems) * c.blockBytes;
      const x = Float32Array.from({ length: k }, (_, i) => Math.sin(i) * 3);
      const q = new Uint8Array(rowBytes);
      c.quantizeRow(x, 0, k, q, 0);
      // the same row placed at odd offsets, inside sentinel-filled buffers
      const src = new Uint8Array(rowBytes + 7).fill(0xee);
      src.set(q, 5);
      const xs = new Float32Array(k + 3);
      xs.set(x, 3);
      const q2 = new Uint8Array(rowBytes + 9).fill(0xcd);
      c.quantizeRow(xs, 3, k, q2, 4);
      expect(Array.from(q2.subarray(4, 4 + rowBytes))).toEqual(Array.from(q));
      expect(q2[3]).toBe(0xcd);
      expect(q2[4 + rowBytes]).toBe(0xcd);

      const ref = new Float32Array(k);
      c.dequantizeRow(q, 0, k, ref, 0);
      const dst = new Float32Array(k + 10).fill(-7);
      c.dequantizeRow(src, 5, k, dst, 6);
      expect(Array.from(dst.subarray(6, 6 + k))).toEqual(Array.from(ref));
      expect(dst[5]).toBe(-7);
      expect(dst[6 + k]).toBe(-7);
    }
  });
});

describe('plain float formats', () => {
  it('reads F32 little-endian from an unaligned offset', () => {
    const b = new Uint8Array(9);
    new DataView(b.buffer).setFloat32(1, -1.25, true);
    new DataView(b.buffer).setFloat32(5, 3e-42, true); // float32 subnormal
    const y = new Float32Array(2);
    codecFor(GgmlType.F32).dequantizeRow(b, 1, 2, y, 0);
    expect(y[0]).toBe(-1.25);
    expect(y[1]).toBe(Math.fround(3e-42));
  });

  it('reads F16 subnormal, inf and NaN', () => {
    const b = new Uint8Array(10);
    [0x0001, 0x7c00, 0xfc00, 0x7e00, 0x3c00].forEach((h, i) => putHalf(b, 2 * i, h));
    const y = dequantize(GgmlType.F16, b, 1, 5);
    expect(y[0]).toBe(2 ** -24);
    expect(y[1]).toBe(Infinity);
    expect(y[2]).toBe(-Infinity);
    expect(y[3]).toBeNaN();
    expect(y[4]).toBe(1);
  });

  it('reads BF16 and keeps the NaN payload bits', () => {
    const b = new Uint8Array(8);
    [0x3f80, 0x0001, 0xff80, 0x7fc1].forEach((h, i) => putHalf(b, 2 * i, h));
    const y = dequantize(GgmlType.BF16, b, 2, 2);
    expect(y[0]).toBe(1);
    expect(y[1]).toBe(2 ** -133);
    expect(y[2]).toBe(-Infinity);
    expect(new Uint32Array(y.buffer)[3]).toBe(0x7fc10000);
  });
});

describe('scanScales', () => {
  it('finds planted NaN / Inf scales in d and dmin', () => {
    const q4k = new Uint8Array(144 * 5);
    for (let i = 0; i < 5; i++) putHalf(q4k, 144 * i, H_ONE);
    expect(scanScales(GgmlType.Q4_K, q4k)).toEqual({ badBlocks: 0, firstBadBlock: null });
    putHalf(q4k, 144 * 2 + 2, H_NAN); // dmin of block 2
    putHalf(q4k, 144 * 4, 0xfc00); // d of block 4 = -inf
    expect(scanScales(GgmlType.Q4_K, q4k)).toEqual({ badBlocks: 2, firstBadBlock: 2 });
  });

  it('checks d where each format keeps it', () => {
    // [type, block bytes, offsets of its half scales]
    const cases: [number, number, number[]][] = [
      [GgmlType.Q4_0, 18, [0]],
      [GgmlType.Q8_0, 34, [0]],
      [GgmlType.Q4_K, 144, [0, 2]],
      [GgmlType.Q5_K, 176, [0, 2]],
      [GgmlType.Q6_K, 210, [208]],
    ];
    for (const [type, bytes, offs] of cases) {
      for (const off of offs) {
        const data = new Uint8Array(bytes * 3);
        putHalf(data, bytes + off, H_INF);
        expect(scanScales(type, data)).toEqual({ badBlocks: 1, firstBadBlock: 1 });
      }
      // NaN-looking byte pairs everywhere else (quants, 6-bit scales) are not half scales
      const q = new Uint8Array(bytes * 2).fill(0xff);
      for (let i = 0; i < 2; i++) for (const off of offs) putHalf(q, bytes * i + off, H_ONE);
      expect(scanScales(type, q)).toEqual({ badBlocks: 0, firstBadBlock: null });
    }
  });

  it('reports nothing for plain floats and rejects unsupported types', () => {
    expect(scanScales(GgmlType.F16, new Uint8Array([0, 0x7e]))).toEqual({
      badBlocks: 0,
      firstBadBlock: null,
    });
    expect(() => scanScales(GgmlType.IQ3_S, new Uint8Array(110))).toThrow('IQ3_S is not supported');
  });
});
