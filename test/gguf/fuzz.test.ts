import { describe, it, expect } from 'vitest';
import {
  encodeGguf,
  GgufError,
  GgufNeedMoreError,
  GgufValueType as V,
  md,
  parseGgufHeader,
  type GgufHeader,
} from '../../src-main/engine/gguf';
import { GgmlType, rowBytes } from '../../src-main/engine/ggml-types';
import { Rng } from '../../src-main/engine/rng';
import { Raw } from './helpers';

function data(rng: Rng, type: number, dims: number[]) {
  const n = dims.slice(1).reduce((a, b) => a * b, 1);
  const b = new Uint8Array(rowBytes(type, dims[0]) * n);
  for (let i = 0; i < b.length; i++) b[i] = rng.u32() & 0xff;
  return b;
}

function seeds(): Uint8Array[] {
  const rng = new Rng(42);
  const t = (name: string, type: number, dims: number[]) => ({
    name,
    type,
    dims,
    data: data(rng, type, dims),
  });
  const a = encodeGguf({
    metadata: [
      md.string('general.architecture', 'llama'),
      md.u8('a', 1),
      md.i8('b', -1),
      md.u16('c', 2),
      md.i16('d', -2),
      md.u32('e', 3),
      md.i32('f', -3),
      md.f32('g', 0.5),
      md.bool('h', true),
      md.u64('i', (1n << 64n) - 1n),
      md.i64('j', -5),
      md.f64('k', 1.5),
      md.array('tokenizer.ggml.scores', V.FLOAT32, [0, -1, -2, -3]),
    ],
    tensors: [
      t('tok_embd.weight', GgmlType.Q4_0, [64, 2]),
      t('norm', GgmlType.F32, [8]),
      t('q8', GgmlType.Q8_0, [32, 3]),
    ],
  });
  const b = encodeGguf({
    metadata: [
      md.array('nested', V.ARRAY, [
        { elementType: V.STRING, values: ['x', 'yy', ''] },
        { elementType: V.ARRAY, values: [{ elementType: V.INT64, values: [-1, 1n << 62n] }] },
      ]),
      md.array('u64s', V.UINT64, [1, 2, 3]),
    ],
    tensors: [t('blk.0.ffn_up.weight', GgmlType.Q4_K, [256, 2]), t('v', GgmlType.Q6_K, [256, 1, 2])],
    alignment: 64,
  });
  const tokens = Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? `Ġü${i}` : `t${i}`));
  const c = encodeGguf({
    metadata: [md.array('tokenizer.ggml.tokens', V.STRING, tokens), md.u32('general.alignment', 32)],
    tensors: [t('w', GgmlType.Q5_K, [256, 1]), t('bf', GgmlType.BF16, [16, 2])],
  });
  // unknown type id, v2, no metadata
  const d = new Raw()
    .header(2, 0, 2)
    .tensor('u', [10, 3], 77, 0)
    .tensor('f', [8], 0, 0)
    .pad()
    .zeros(32)
    .build();
  return [a, b, c, d];
}

const HUGE = [(1n << 64n) - 1n, 1n << 63n, 1n << 32n, (1n << 53n) + 1n, 1n << 40n, 0xffffffffn, 0n, 1n, 65n];

function interesting(h: GgufHeader): number[] {
  const p = [4, 8, 16];
  const enc = new TextEncoder();
  for (const e of h.metadata) p.push(e.offset, e.offset + 8 + enc.encode(e.key).length + 4);
  // tensor infos: name length, dims, offset
  const size = (t: GgufHeader['tensors'][number]) =>
    8 + enc.encode(t.name).length + 4 + 8 * t.dims.length + 4 + 8;
  let at = h.headerBytes - h.tensors.reduce((a, t) => a + size(t), 0);
  for (const t of h.tensors) {
    const dimsAt = at + 8 + enc.encode(t.name).length + 4;
    p.push(at, ...t.dims.map((_, d) => dimsAt + 8 * d), dimsAt + 8 * t.dims.length + 4);
    at += size(t);
  }
  return p;
}

function mutate(
  rng: Rng,
  src: Uint8Array,
  all: Uint8Array[],
  positions: number[],
): { bytes: Uint8Array; fileSize: number } {
  let b: Uint8Array = src.slice();
  let fileSize = -1;
  const steps = rng.int(1, 3);
  for (let s = 0; s < steps; s++) {
    const kind = rng.int(0, 5);
    if (kind === 0) {
      // byte flips, mostly in the header
      const n = rng.int(1, 8);
      const hi = Math.min(b.length, rng.next() < 0.8 ? 600 : b.length);
      for (let i = 0; i < n && hi > 0; i++) b[rng.int(0, hi - 1)] = rng.u32() & 0xff;
    } else if (kind === 1) {
      // truncation, as a whole short file or as a prefix of the original
      const len = rng.int(0, b.length);
      if (rng.next() < 0.5) fileSize = b.length;
      b = b.slice(0, len);
    } else if (kind === 2 && b.length >= 8) {
      // a u64 field (or any 8 bytes) set to a huge value
      const at = rng.next() < 0.6 ? positions[rng.int(0, positions.length - 1)] : rng.int(0, b.length - 8);
      if (at + 8 <= b.length) {
        const v =
          rng.next() < 0.8 ? HUGE[rng.int(0, HUGE.length - 1)] : BigInt(rng.u32()) * BigInt(rng.u32());
        new DataView(b.buffer, b.byteOffset).setBigUint64(at, BigInt.asUintN(64, v), true);
      }
    } else if (kind === 3) {
      // splice a segment of another seed in (replacing or inserting)
      const other = all[rng.int(0, all.length - 1)];
      const from = rng.int(0, other.length - 1);
      const seg = other.subarray(from, Math.min(other.length, from + rng.int(1, 64)));
      const at = rng.int(0, b.length);
      const replace = rng.next() < 0.5;
      const out = new Uint8Array(b.length + (replace ? Math.max(0, at + seg.length - b.length) : seg.length));
      out.set(b.subarray(0, at), 0);
      out.set(seg, at);
      if (!replace) out.set(b.subarray(at), at + seg.length);
      else if (at + seg.length < b.length) out.set(b.subarray(at + seg.length), at + seg.length);
      b = out;
    } else if (kind === 4 && b.length > 1) {
      // delete a range
      const at = rng.int(0, b.length - 1);
      const n = Math.min(rng.int(1, 16), b.length - at);
      const out = new Uint8Array(b.length - n);
      out.set(b.subarray(0, at), 0);
      out.set(b.subarray(at + n), at);
      b = out;
    } else {
      // small u32 fields (value types, n_dims, ggml types) set to edge values
      if (b.length >= 4) {
        const at = rng.int(0, b.length - 4);
        const vals = [0, 1, 4, 5, 8, 9, 12, 13, 77, 0xffffffff, 0x80000000];
        new DataView(b.buffer, b.byteOffset).setUint32(at, vals[rng.int(0, vals.length - 1)], true);
      }
    }
  }
  return { bytes: b, fileSize: Math.max(fileSize, b.length) };
}

function checkHeader(h: GgufHeader): void {
  expect(h.dataStart % h.alignment).toBe(0);
  const sized = h.tensors.filter((t) => t.nbytes > 0).sort((a, b) => a.offset - b.offset);
  for (const t of h.tensors) {
    expect(t.offset + t.nbytes).toBeLessThanOrEqual(h.fileSize);
    expect(t.relOffset % h.alignment).toBe(0);
    expect(t.k * t.n).toBe(t.nElements);
    expect(t.dims.length).toBeGreaterThanOrEqual(1);
    expect(t.dims.length).toBeLessThanOrEqual(4);
  }
  for (let i = 1; i < sized.length; i++)
    expect(sized[i].offset).toBeGreaterThanOrEqual(sized[i - 1].offset + sized[i - 1].nbytes);
}

// FUZZ_N / FUZZ_SEED env vars run a longer or different fuzz locally (e.g. FUZZ_N=40000 FUZZ_SEED=7).
describe('fuzz', () => {
  it('random mutations of valid files only ever parse or throw GgufError / GgufNeedMoreError, fast', () => {
    const all = seeds();
    const positions = all.map((s) => interesting(parseGgufHeader(s, s.length)));
    const rng = new Rng(Number(process.env.FUZZ_SEED ?? 20261126));
    const N = Number(process.env.FUZZ_N ?? 6000);
    const counts = { ok: 0, error: 0, needMore: 0 };
    const fields = new Set<string>();
    let worst = 0;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const which = i % all.length;
      const { bytes, fileSize } = mutate(rng, all[which], all, positions[which]);
      const s = performance.now();
      try {
        const h = parseGgufHeader(bytes, fileSize);
        checkHeader(h);
        counts.ok++;
      } catch (e) {
        if (e instanceof GgufError) {
          counts.error++;
          fields.add(e.field.replace(/\[\d+\]/g, '[]').replace(/"[^"]*"/g, '""'));
          expect(e.message).toMatch(/^.+ at byte \d+: .+$/);
          expect(e.message).not.toMatch(/[\r\n]/);
        } else if (e instanceof GgufNeedMoreError) {
          counts.needMore++;
          expect(e.needed).toBeGreaterThan(bytes.length);
          expect(e.needed).toBeLessThanOrEqual(fileSize);
        } else {
          throw new Error(`mutation ${i} (seed file ${which}) threw a non-GGUF error: ${String(e)}`);
        }
      }
      worst = Math.max(worst, performance.now() - s);
    }
    const total = performance.now() - t0;
    console.log(
      `fuzz: ${N} mutations in ${total.toFixed(0)} ms (slowest parse ${worst.toFixed(1)} ms): ` +
        `${counts.ok} parsed, ${counts.error} GgufError, ${counts.needMore} need-more; ${fields.size} distinct error fields`,
    );
    expect(total).toBeLessThan(20_000 * Math.max(1, N / 6000));
    expect(worst).toBeLessThan(1000);
    // the mutations really exercise the validator
    expect(counts.ok).toBeGreaterThan(50);
    expect(counts.error).toBeGreaterThan(N / 4);
    expect(counts.needMore).toBeGreaterThan(20);
    expect(fields.size).toBeGreaterThan(15);
  });
});
