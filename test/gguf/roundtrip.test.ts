import { describe, it, expect } from 'vitest';
import {
  encodeGguf,
  encodeGgufHeader,
  formatMetadataValue,
  GgufValueType as V,
  md,
  metaValue,
  parseGgufHeader,
  type MetaInput,
} from '../../src-main/engine/gguf';
import { GgmlType, rowBytes } from '../../src-main/engine/ggml-types';
import { Rng } from '../../src-main/engine/rng';
import { Raw } from './helpers';

const allTypes: MetaInput[] = [
  md.u8('t.u8', 255),
  md.i8('t.i8', -128),
  md.u16('t.u16', 65535),
  md.i16('t.i16', -32768),
  md.u32('t.u32', 0xffffffff),
  md.i32('t.i32', -0x80000000),
  md.f32('t.f32', Math.fround(3.14159)),
  md.bool('t.bool', true),
  md.bool('t.bool0', false),
  md.string('t.string', 'héllo wörld ✓ 🙂'),
  md.string('t.empty', ''),
  md.u64('t.u64.max', (1n << 64n) - 1n),
  md.u64('t.u64.safe', Number.MAX_SAFE_INTEGER),
  md.u64('t.u64.unsafe', 1n << 53n),
  md.u64('t.u64.zero', 0),
  md.i64('t.i64.min', -(1n << 63n)),
  md.i64('t.i64.max', (1n << 63n) - 1n),
  md.i64('t.i64.negsafe', -Number.MAX_SAFE_INTEGER),
  md.f64('t.f64', Math.PI),
  md.f64('t.f64.inf', -Infinity),
  md.array('a.u8', V.UINT8, [0, 1, 255]),
  md.array('a.i8', V.INT8, [-1, 127]),
  md.array('a.u16', V.UINT16, [65535]),
  md.array('a.i16', V.INT16, [-2]),
  md.array('a.u32', V.UINT32, [1, 4000000000]),
  md.array('a.i32', V.INT32, [-5, 7]),
  md.array('a.f32', V.FLOAT32, [0.5, -1.25]),
  md.array('a.bool', V.BOOL, [true, false]),
  md.array('a.string', V.STRING, ['<s>', '</s>', '', 'ü']),
  md.array('a.u64', V.UINT64, [1, (1n << 64n) - 1n]),
  md.array('a.i64', V.INT64, [-1, -(1n << 63n)]),
  md.array('a.f64', V.FLOAT64, [1e300]),
  md.array('a.empty', V.UINT32, []),
  md.array('a.nested', V.ARRAY, [
    { elementType: V.STRING, values: ['x', 'y'] },
    { elementType: V.ARRAY, values: [{ elementType: V.INT64, values: [-(1n << 63n)] }] },
    { elementType: V.UINT8, values: [] },
  ]),
];

function strip(h: ReturnType<typeof parseGgufHeader>) {
  return h.metadata.map(({ key, type, value }) => ({ key, type, value }));
}

describe('round trip encode -> parse', () => {
  it('every metadata type, u64/i64 extremes and nested arrays come back identical', () => {
    const bytes = encodeGguf({ metadata: allTypes, tensors: [] });
    const h = parseGgufHeader(bytes, bytes.length);
    expect(h.version).toBe(3);
    expect(strip(h)).toEqual(allTypes);
    expect(metaValue(h, 't.u64.max')).toBe((1n << 64n) - 1n);
    expect(metaValue(h, 't.u64.safe')).toBe(Number.MAX_SAFE_INTEGER);
    expect(typeof metaValue(h, 't.u64.unsafe')).toBe('bigint');
    expect(metaValue(h, 't.i64.negsafe')).toBe(-Number.MAX_SAFE_INTEGER);
    expect(metaValue(h, 'missing')).toBeUndefined();
    // metadata offsets point at each entry's key length
    const dv = new DataView(bytes.buffer);
    for (const e of h.metadata)
      expect(dv.getUint32(e.offset, true)).toBe(new TextEncoder().encode(e.key).length);
  });

  for (const alignment of [32, 64, 1024]) {
    it(`tensors at alignment ${alignment}`, () => {
      const rng = new Rng(alignment);
      const specs = [
        { name: 'tok_embd.weight', type: GgmlType.Q4_0, dims: [64, 3] },
        { name: 'blk.0.attn_q.weight', type: GgmlType.Q4_K, dims: [256, 2] },
        { name: 'blk.0.ffn_down.weight', type: GgmlType.Q6_K, dims: [512, 1, 2] },
        { name: 'norm', type: GgmlType.F32, dims: [7] },
        { name: 'half', type: GgmlType.F16, dims: [3, 3] },
        { name: 'q8', type: GgmlType.Q8_0, dims: [32, 5] },
        { name: 'q5k', type: GgmlType.Q5_K, dims: [256, 1] },
        { name: 'bf', type: GgmlType.BF16, dims: [5] },
      ];
      const tensors = specs.map((s) => {
        const n = s.dims.slice(1).reduce((a, b) => a * b, 1);
        const data = new Uint8Array(rowBytes(s.type, s.dims[0]) * n);
        for (let i = 0; i < data.length; i++) data[i] = rng.u32() & 0xff;
        return { ...s, data };
      });
      const bytes = encodeGguf({ metadata: [md.string('general.name', 'rt')], tensors, alignment });
      const h = parseGgufHeader(bytes, bytes.length);
      expect(h.alignment).toBe(alignment);
      expect(h.dataStart % alignment).toBe(0);
      expect(h.dataStart).toBeGreaterThanOrEqual(h.headerBytes);
      expect(h.tensors.map((t) => t.name)).toEqual(specs.map((s) => s.name));
      h.tensors.forEach((t, i) => {
        expect(t.relOffset % alignment).toBe(0);
        expect(t.offset).toBe(h.dataStart + t.relOffset);
        expect(t.nbytes).toBe(tensors[i].data.length);
        expect(t.dims).toEqual(specs[i].dims);
        expect(t.supported).toBe(true);
        expect(t.k).toBe(specs[i].dims[0]);
        expect(t.k * t.n).toBe(t.nElements);
        expect(bytes.subarray(t.offset, t.offset + t.nbytes)).toEqual(tensors[i].data);
      });
      // each tensor padded to the alignment, so the file ends on it
      expect(bytes.length % alignment).toBe(0);
      expect(
        encodeGgufHeader({ metadata: [md.string('general.name', 'rt')], tensors, alignment }).fileSize,
      ).toBe(bytes.length);
    });
  }

  it('encoder rejects bad input with clear errors', () => {
    const t = (o: object) => ({ name: 'x', type: GgmlType.F32, dims: [4], data: new Uint8Array(16), ...o });
    expect(() => encodeGguf({ metadata: [md.u8('k', 256)], tensors: [] })).toThrow(/uint8/);
    expect(() => encodeGguf({ metadata: [md.u8('k', 1), md.u8('k', 2)], tensors: [] })).toThrow(/duplicate/);
    expect(() => encodeGguf({ metadata: [], tensors: [t({ data: new Uint8Array(15) })] })).toThrow(
      /expected 16/,
    );
    expect(() => encodeGguf({ metadata: [], tensors: [t({ type: GgmlType.Q4_0 })] })).toThrow(/block size/);
    expect(() => encodeGguf({ metadata: [], tensors: [t({}), t({})] })).toThrow(/duplicate/);
    expect(() => encodeGguf({ metadata: [], tensors: [t({ name: 'n'.repeat(64) })] })).toThrow(/name/);
    expect(() => encodeGguf({ metadata: [], tensors: [], alignment: 48 })).toThrow(/power of two/);
    expect(() =>
      encodeGguf({ metadata: [md.u32('general.alignment', 64)], tensors: [], alignment: 32 }),
    ).toThrow(/disagrees/);
  });
});

describe('string arrays decode exactly like a per-string TextDecoder', () => {
  it('valid 1-4 byte sequences and malformed bytes (overlong, surrogate, truncated, > U+10FFFF)', () => {
    const enc = new TextEncoder();
    const good = [
      '\uFEFFbom',
      '',
      'a',
      'Ġthe',
      'ü',
      '€uro',
      '😀x',
      'mixed ✓ 🙂 ß',
      'x'.repeat(300),
      '\uFEFF',
    ];
    const bad = [
      [0xc0, 0xaf], // overlong
      [0xed, 0xa0, 0x80], // surrogate
      [0xe2, 0x82], // truncated
      [0xf4, 0x90, 0x80, 0x80], // > U+10FFFF
      [0x80], // lone continuation
      [0x61, 0xff, 0x62],
      [0xf0, 0x8f, 0xbf, 0xbf], // overlong 4-byte
      [0xe0, 0x9f, 0xbf], // overlong 3-byte
    ].map((a) => Uint8Array.from(a));
    const items: Uint8Array[] = [];
    for (let i = 0; i < 64; i++)
      items.push(i % 3 === 1 ? bad[i % bad.length] : enc.encode(good[i % good.length]));
    const r = new Raw().header(0, 1).str('k').u32(V.ARRAY).u32(V.STRING).u64(items.length);
    for (const it of items) r.u64(it.length).bytes(it);
    const b = r.build();
    const h = parseGgufHeader(b, b.length);
    const got = (h.metadata[0].value as { values: string[] }).values;
    const td = new TextDecoder('utf-8', { ignoreBOM: true });
    expect(got).toEqual(items.map((x) => td.decode(x)));
    expect(got[0]).toBe('\uFEFFbom');
    // and single strings keep a BOM too
    const one = encodeGguf({ metadata: [md.string('\uFEFFk', '\uFEFFv')], tensors: [] });
    expect(parseGgufHeader(one, one.length).metadata[0]).toMatchObject({ key: '\uFEFFk', value: '\uFEFFv' });
  });
});

describe('formatMetadataValue', () => {
  it('summarises long arrays and quotes strings on one line', () => {
    const tokens = Array.from({ length: 128256 }, (_, i) => (i === 0 ? '<s>' : i === 1 ? '</s>' : `t${i}`));
    const bytes = encodeGguf({
      metadata: [
        md.array('tokenizer.ggml.tokens', V.STRING, tokens),
        md.array('short', V.INT32, [1, 2, 3]),
        md.string('multi', 'a\nb'),
        md.u64('big', 1n << 60n),
        md.f32('eps', 1e-5),
        md.array('f32s', V.FLOAT32, [0.1, 1.5, -Infinity]),
      ],
      tensors: [],
    });
    const h = parseGgufHeader(bytes, bytes.length);
    expect(formatMetadataValue(h.metadata[0], 2)).toBe('[128256 × string] "<s>", "</s>", ...');
    expect(formatMetadataValue(h.metadata[1])).toBe('[1, 2, 3]');
    expect(formatMetadataValue(h.metadata[2])).toBe('"a\\nb"');
    expect(formatMetadataValue(h.metadata[3])).toBe(String(1n << 60n));
    expect(formatMetadataValue(h.metadata[4])).toBe('0.00001');
    expect(formatMetadataValue(h.metadata[5])).toBe('[0.1, 1.5, -Infinity]');
  });
});

describe('speed', () => {
  it('a Llama-3-sized tokenizer header (128k strings + scores + types) parses well under 100 ms', () => {
    const rng = new Rng(3);
    const tokens: string[] = [];
    for (let i = 0; i < 128256; i++) {
      const len = 1 + (rng.u32() % 12);
      let s = i % 50 === 0 ? 'Ġü' : 'Ġ';
      for (let j = 0; j < len; j++) s += String.fromCharCode(97 + (rng.u32() % 26));
      tokens.push(s);
    }
    const bytes = encodeGguf({
      metadata: [
        md.array('tokenizer.ggml.tokens', V.STRING, tokens),
        md.array(
          'tokenizer.ggml.scores',
          V.FLOAT32,
          tokens.map((_, i) => -i),
        ),
        md.array(
          'tokenizer.ggml.token_type',
          V.INT32,
          tokens.map(() => 1),
        ),
      ],
      tensors: [],
    });
    // CPU time of this process, not wall time: the test machine is shared and often oversubscribed
    let best = Infinity;
    let bestWall = Infinity;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const h = parseGgufHeader(bytes, bytes.length);
      const c = process.cpuUsage(c0);
      bestWall = Math.min(bestWall, performance.now() - t0);
      best = Math.min(best, (c.user + c.system) / 1000);
      expect((h.metadata[0].value as { values: string[] }).values[128255]).toBe(tokens[128255]);
      expect((h.metadata[0].value as { values: string[] }).values[50]).toBe(tokens[50]);
    }
    console.log(
      `tokenizer header (${bytes.length} bytes): best parse ${best.toFixed(1)} ms CPU, ${bestWall.toFixed(1)} ms wall`,
    );
    expect(best).toBeLessThan(100);
  });
});
