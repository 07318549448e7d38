import { describe, it, expect } from 'vitest';
import {
  GgufError,
  GgufNeedMoreError,
  GgufValueType as V,
  parseGgufHeader,
} from '../../src-main/engine/gguf';
import { GgmlType } from '../../src-main/engine/ggml-types';
import { Raw } from './helpers';

const MAX64 = (1n << 64n) - 1n;

/** A valid one-tensor file to derive broken ones from: F32 [8, 2] = 64 bytes. */
function oneTensor(
  mutate: { dims?: (number | bigint)[]; type?: number; offset?: number | bigint; data?: number } = {},
) {
  return new Raw()
    .header(1, 1)
    .kvStr('general.name', 'x')
    .tensor('w', mutate.dims ?? [8, 2], mutate.type ?? GgmlType.F32, mutate.offset ?? 0)
    .pad()
    .zeros(mutate.data ?? 64)
    .build();
}

function parse(b: Uint8Array) {
  return parseGgufHeader(b, b.length);
}

interface Case {
  name: string;
  file: () => Uint8Array;
  /** substring of GgufError.field */
  field: string;
  /** pattern the message must match */
  msg?: RegExp;
}

const cases: Case[] = [
  { name: 'empty file', file: () => new Uint8Array(0), field: 'magic' },
  {
    name: 'bad magic',
    file: () => new Raw().bytes([0x47, 0x47, 0x55, 0x58]).u32(3).u64(0).u64(0).build(),
    field: 'magic',
  },
  { name: 'version 0', file: () => new Raw().header(0, 0, 0).build(), field: 'version', msg: /version 0/ },
  {
    name: 'version 1',
    file: () => new Raw().header(0, 0, 1).build(),
    field: 'version',
    msg: /v1 is obsolete/,
  },
  { name: 'future version 4', file: () => new Raw().header(0, 0, 4).build(), field: 'version', msg: /v4/ },
  {
    name: 'byte-swapped (big-endian) v3',
    file: () => new Raw().header(0, 0, 0x03000000).build(),
    field: 'version',
    msg: /big-endian/,
  },
  { name: 'tensor count 2^64-1', file: () => new Raw().header(MAX64, 0).build(), field: 'tensor_count' },
  {
    name: 'metadata count 2^64-1',
    file: () => new Raw().header(0, MAX64).build(),
    field: 'metadata_kv_count',
  },
  {
    name: 'metadata count larger than the file can hold',
    file: () => new Raw().header(0, 1000).kvU32('a', 1).build(),
    field: 'metadata_kv_count',
    msg: /remain/,
  },
  {
    name: 'tensor count larger than the file can hold',
    file: () => new Raw().header(500, 0).zeros(100).build(),
    field: 'metadata_kv_count', // the combined count check names the second count read
    msg: /tensor infos/,
  },
  {
    name: 'empty key',
    file: () => new Raw().header(0, 1).kvU32('', 1).build(),
    field: 'metadata[0].key',
    msg: /empty/,
  },
  {
    name: 'duplicate key',
    file: () => new Raw().header(0, 2).kvU32('a.b', 1).kvU32('a.b', 2).build(),
    field: 'metadata[1].key',
    msg: /duplicate/,
  },
  {
    name: 'bad value type 13',
    file: () => new Raw().header(0, 1).str('k').u32(13).u32(0).build(),
    field: 'metadata "k" type',
  },
  {
    name: 'bad array element type',
    file: () => new Raw().header(0, 1).str('k').u32(V.ARRAY).u32(99).u64(0).build(),
    field: 'metadata "k" value element type',
  },
  {
    name: 'key length past EOF',
    file: () => new Raw().header(0, 1).u64(1000).bytes([0x61, 0x62]).zeros(12).build(),
    field: 'metadata[0].key',
    msg: /past the end/,
  },
  {
    name: 'key length 2^64-1',
    file: () => new Raw().header(0, 1).u64(MAX64).zeros(20).build(),
    field: 'metadata[0].key',
    msg: /exceeds/,
  },
  {
    name: 'string value length past EOF',
    file: () => new Raw().header(0, 1).str('k').u32(V.STRING).u64(5000).bytes([1, 2, 3]).build(),
    field: 'metadata "k" value',
  },
  {
    name: 'string value longer than 64 MiB',
    file: () =>
      new Raw()
        .header(0, 1)
        .str('k')
        .u32(V.STRING)
        .u64(65 * 1024 * 1024)
        .build(),
    field: 'metadata "k" value',
    msg: /limit/,
  },
  {
    name: 'array count huge',
    file: () =>
      new Raw()
        .header(0, 1)
        .str('k')
        .u32(V.ARRAY)
        .u32(V.UINT8)
        .u64(1n << 40n)
        .zeros(16)
        .build(),
    field: 'metadata "k" value count',
  },
  {
    name: 'array count larger than remaining bytes',
    file: () => new Raw().header(0, 1).str('k').u32(V.ARRAY).u32(V.UINT32).u64(1000).zeros(16).build(),
    field: 'metadata "k" value count',
    msg: /remain/,
  },
  {
    name: 'string array element length past EOF',
    file: () => new Raw().header(0, 1).str('k').u32(V.ARRAY).u32(V.STRING).u64(2).str('ok').u64(999).build(),
    field: 'metadata "k" value[1]',
  },
  {
    name: 'nested array depth bomb',
    file: () => {
      const r = new Raw().header(0, 1).str('bomb').u32(V.ARRAY);
      for (let i = 0; i < 1000; i++) r.u32(V.ARRAY).u64(1);
      return r.u32(V.UINT8).u64(0).build();
    },
    field: 'metadata "bomb" value',
    msg: /nested deeper/,
  },
  {
    name: 'alignment 13',
    file: () => new Raw().header(0, 1).kvU32('general.alignment', 13).build(),
    field: 'general.alignment',
  },
  {
    name: 'alignment 0',
    file: () => new Raw().header(0, 1).kvU32('general.alignment', 0).build(),
    field: 'general.alignment',
  },
  {
    name: 'alignment 2 MiB (over the cap)',
    file: () =>
      new Raw()
        .header(0, 1)
        .kvU32('general.alignment', 2 << 20)
        .build(),
    field: 'general.alignment',
  },
  {
    name: 'alignment of the wrong type (u64)',
    file: () => new Raw().header(0, 1).str('general.alignment').u32(V.UINT64).u64(32).build(),
    field: 'general.alignment',
    msg: /uint32/,
  },
  {
    name: 'tensor name of 64 bytes',
    file: () => new Raw().header(1, 0).tensor('x'.repeat(64), [32], 0, 0).pad().zeros(128).build(),
    field: 'tensor[0].name',
    msg: /64 bytes/,
  },
  {
    name: 'empty tensor name',
    file: () => new Raw().header(1, 0).tensor('', [32], 0, 0).pad().zeros(128).build(),
    field: 'tensor[0].name',
  },
  {
    name: 'duplicate tensor names',
    file: () => new Raw().header(2, 0).tensor('a', [8], 0, 0).tensor('a', [8], 0, 32).pad().zeros(64).build(),
    field: 'tensor[1] "a" name',
    msg: /duplicate/,
  },
  {
    name: '5 dims',
    file: () => new Raw().header(1, 0).tensor('t', [1, 1, 1, 1, 1], 0, 0).pad().zeros(32).build(),
    field: 'tensor[0] "t" n_dims',
  },
  {
    name: '0 dims',
    file: () => new Raw().header(1, 0).tensor('t', [], 0, 0).zeros(40).pad().zeros(32).build(),
    field: 'tensor[0] "t" n_dims',
  },
  { name: 'zero dim', file: () => oneTensor({ dims: [8, 0] }), field: 'tensor[0] "w" dims[1]', msg: /is 0/ },
  { name: 'huge dim 2^63', file: () => oneTensor({ dims: [1n << 63n, 1] }), field: 'tensor[0] "w" dims[0]' },
  {
    name: 'element count overflow',
    file: () => oneTensor({ dims: [1 << 20, 1 << 20, 1 << 20] }),
    field: 'tensor[0] "w" dims[2]',
    msg: /overflow/,
  },
  {
    name: 'byte size overflow (F32, 2^52 elements)',
    file: () => oneTensor({ dims: [1 << 26, 1 << 26] }),
    field: 'tensor[0] "w" type',
    msg: /overflow/,
  },
  {
    name: 'dims[0] not a multiple of the block size',
    file: () => oneTensor({ dims: [33, 1], type: GgmlType.Q4_0 }),
    field: 'tensor[0] "w" dims[0]',
    msg: /block size 32/,
  },
  {
    name: 'misaligned offset',
    file: () => oneTensor({ offset: 4 }),
    field: 'tensor[0] "w" offset',
    msg: /alignment/,
  },
  {
    name: 'offset past the end',
    file: () => oneTensor({ offset: 1 << 20 }),
    field: 'tensor[0] "w" offset',
    msg: /past the end/,
  },
  { name: 'offset 2^64-32', file: () => oneTensor({ offset: MAX64 - 31n }), field: 'tensor[0] "w" offset' },
  {
    name: 'data one byte short',
    file: () => oneTensor({ data: 63 }),
    field: 'tensor[0] "w" offset',
    msg: /past the end/,
  },
  {
    name: 'two tensors overlapping',
    file: () =>
      new Raw().header(2, 0).tensor('a', [16], 0, 0).tensor('b', [16], 0, 32).pad().zeros(96).build(),
    field: 'tensor[1] "b" offset',
    msg: /overlaps tensor\[0\]/,
  },
  {
    name: 'two tensors whose sizes overflow when summed',
    file: () =>
      new Raw()
        .header(2, 0)
        .tensor('a', [1 << 25, 1 << 25], 0, 0)
        .tensor('b', [1 << 25, 1 << 25], 0, 1n << 52n)
        .pad()
        .zeros(64)
        .build(),
    field: 'tensor[0] "a" offset',
  },
  {
    name: 'file truncated inside the tensor infos',
    file: () =>
      new Raw().header(1, 0).tensor('t', [8, 1, 1, 1], 0, 0).pad().zeros(32).build().subarray(0, 53),
    field: 'tensor[0] "t" dims[2]',
  },
  {
    name: 'n_dims past EOF',
    file: () => new Raw().header(1, 0).str('t'.repeat(30)).zeros(40).build().subarray(0, 64),
    field: 'n_dims',
  },
];

describe('broken GGUF files are rejected with a GgufError naming the field', () => {
  it('has about 30+ cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));
  for (const c of cases) {
    it(c.name, () => {
      const b = c.file();
      let err: unknown;
      try {
        parse(b);
      } catch (e) {
        err = e;
      }
      expect(err, 'must throw').toBeInstanceOf(GgufError);
      const g = err as GgufError;
      expect(g.field).toContain(c.field);
      expect(g.message.startsWith(`${g.field} at byte ${g.offset}: `)).toBe(true);
      expect(g.message).not.toMatch(/[\r\n]/);
      expect(g.offset).toBeGreaterThanOrEqual(0);
      expect(g.offset).toBeLessThanOrEqual(Math.max(b.length, 24));
      if (c.msg) expect(g.message).toMatch(c.msg);
    });
  }
});

describe('lenient cases: the file opens, the tensor is flagged', () => {
  it('unknown type id opens as unsupported with nbytes 0 and a warning', () => {
    const b = new Raw()
      .header(2, 0)
      .tensor('u', [10, 3], 77, 0)
      .tensor('f', [8], 0, 0)
      .pad()
      .zeros(32)
      .build();
    const h = parse(b);
    const [u, f] = h.tensors;
    expect(u).toMatchObject({
      typeName: 'type#77',
      supported: false,
      unsupportedReason: 'type#77 is unknown',
      nbytes: 0,
    });
    expect(f).toMatchObject({ supported: true, nbytes: 32, offset: h.dataStart });
    expect(h.warnings.join(' ')).toContain('type#77');
  });
  it('retired type id and known-but-unsupported IQ2_XXS', () => {
    const b = new Raw()
      .header(2, 0)
      .tensor('r', [32], 4, 0)
      .tensor('q', [256, 2], GgmlType.IQ2_XXS, 0)
      .pad()
      .zeros(132)
      .build();
    const h = parse(b);
    expect(h.tensors[0]).toMatchObject({ supported: false, nbytes: 0 });
    expect(h.tensors[0].unsupportedReason).toMatch(/retired/);
    expect(h.tensors[1]).toMatchObject({
      supported: false,
      nbytes: 132,
      unsupportedReason: 'IQ2_XXS is not supported',
    });
  });
  it('a 3-D tensor is supported with n = dims[1] * dims[2]', () => {
    const h = parse(oneTensor({ dims: [4, 2, 2] }));
    expect(h.tensors[0]).toMatchObject({ k: 4, n: 4, nElements: 16, nbytes: 64, supported: true });
  });
  it('GGUF v2 parses like v3', () => {
    const b = new Raw()
      .header(1, 1, 2)
      .kvStr('general.name', 'x')
      .tensor('w', [8, 2], 0, 0)
      .pad()
      .zeros(64)
      .build();
    expect(parse(b).version).toBe(2);
  });
});

describe('prefixes', () => {
  it('a short prefix of a longer file asks for more instead of failing', () => {
    const b = oneTensor();
    let need = 4;
    let prefix = b.subarray(0, need);
    let rounds = 0;
    for (;;) {
      try {
        const h = parseGgufHeader(prefix, b.length);
        expect(h.tensors[0].name).toBe('w');
        break;
      } catch (e) {
        expect(e).toBeInstanceOf(GgufNeedMoreError);
        const n = (e as GgufNeedMoreError).needed;
        expect(n).toBeGreaterThan(need);
        need = n;
        prefix = b.subarray(0, need);
        rounds++;
      }
    }
    expect(rounds).toBeGreaterThan(3);
  });
  it('a huge count is an error even from a short prefix (no NeedMore for impossible sizes)', () => {
    const b = new Raw()
      .header(0, 1)
      .str('k')
      .u32(V.ARRAY)
      .u32(V.UINT8)
      .u64(1n << 40n)
      .build();
    expect(() => parseGgufHeader(b, 1 << 30)).toThrow(GgufError);
  });
});
