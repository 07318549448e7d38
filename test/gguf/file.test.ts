import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeGguf,
  encodeGgufHeader,
  GgufError,
  GgufFile,
  GgufValueType as V,
  GgufWriter,
  md,
  openGguf,
  parseGgufHeader,
  type MetaInput,
} from '../../src-main/engine/gguf';
import { GgmlType, rowBytes } from '../../src-main/engine/ggml-types';
import { Rng } from '../../src-main/engine/rng';
import { Raw } from './helpers';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qs-gguf-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.u32() & 0xff;
  return b;
}

const specs = [
  { name: 'tok_embd.weight', type: GgmlType.Q4_0, dims: [128, 6] },
  { name: 'blk.0.ffn_up.weight', type: GgmlType.Q4_K, dims: [512, 3] },
  { name: 'output_norm.weight', type: GgmlType.F32, dims: [13] },
  { name: 'blk.0.attn_v.weight', type: GgmlType.Q6_K, dims: [256, 2, 2] },
];

function model(seed: number, alignment?: number) {
  const rng = new Rng(seed);
  const metadata: MetaInput[] = [
    md.string('general.architecture', 'llama'),
    md.u32('llama.context_length', 4096),
    md.array('tokenizer.ggml.tokens', V.STRING, ['<s>', '</s>', 'Ġa']),
  ];
  const tensors = specs.map((s) => {
    const n = s.dims.slice(1).reduce((a, b) => a * b, 1);
    return { ...s, data: randomBytes(rng, rowBytes(s.type, s.dims[0]) * n) };
  });
  return { metadata, tensors, alignment };
}

describe('GgufWriter', () => {
  for (const alignment of [32, 64, 1024]) {
    it(`streams a file byte-identical to encodeGguf (alignment ${alignment})`, async () => {
      const m = model(alignment, alignment);
      const path = join(dir, `w${alignment}.gguf`);
      const w = await GgufWriter.create(path, {
        metadata: m.metadata,
        tensors: m.tensors.map(({ data: _d, ...t }) => t),
        alignment,
      });
      const rng = new Rng(7);
      for (const t of m.tensors) {
        // random chunking, including empty chunks
        let o = 0;
        while (o < t.data.length) {
          const n = Math.min(t.data.length - o, rng.int(0, 200));
          await w.writeTensorData(t.name, t.data.subarray(o, o + n));
          o += n;
        }
      }
      await w.close();
      const onDisk = new Uint8Array(await readFile(path));
      expect(onDisk).toEqual(encodeGguf(m));
    });
  }

  it('checks order and sizes', async () => {
    const m = model(1);
    const tensors = m.tensors.map(({ data: _d, ...t }) => t);
    const path = join(dir, 'bad.gguf');
    const w = await GgufWriter.create(path, { metadata: m.metadata, tensors });
    await expect(w.writeTensorData('blk.0.ffn_up.weight', new Uint8Array(4))).rejects.toThrow(
      /expected data for tensor "tok_embd.weight"/,
    );
    await expect(
      w.writeTensorData('tok_embd.weight', new Uint8Array(m.tensors[0].data.length + 1)),
    ).rejects.toThrow(/expected 432/);
    await w.writeTensorData('tok_embd.weight', m.tensors[0].data);
    await w.writeTensorData('blk.0.ffn_up.weight', new Uint8Array(10));
    await expect(w.close()).rejects.toThrow(
      /incomplete: tensor "blk.0.ffn_up.weight" got 10 of 864 bytes and 2 later/,
    );
    await expect(
      GgufWriter.create(join(dir, 'x.gguf'), { metadata: [], tensors: [{ name: 'q', type: 2, dims: [5] }] }),
    ).rejects.toThrow(/block size/);
  });
});

describe('GgufFile', () => {
  it('opens, lists and reads tensors and rows', async () => {
    const m = model(3);
    const path = join(dir, 'm.gguf');
    await writeFile(path, encodeGguf(m));
    const f = await openGguf(path);
    try {
      expect(f.path).toBe(path);
      expect(f.header.tensors.map((t) => t.name)).toEqual(specs.map((s) => s.name));
      for (const t of m.tensors) expect(await f.readTensor(t.name)).toEqual(t.data);
      const q6 = f.tensor('blk.0.attn_v.weight');
      expect(q6.n).toBe(4);
      const rb = rowBytes(GgmlType.Q6_K, 256);
      expect(await f.readRows(q6, 1, 2)).toEqual(m.tensors[3].data.subarray(rb, 3 * rb));
      expect(await f.readRows('tok_embd.weight', 5, 1)).toEqual(m.tensors[0].data.subarray(5 * 72, 6 * 72));
      expect((await f.readRows(q6, 4, 0)).length).toBe(0);
      expect(() => f.tensor('nope')).toThrow(/tensor "nope" is not in/);
      await expect(f.readRows(q6, 3, 2)).rejects.toThrow(/outside/);
      await expect(f.readRows(q6, -1, 1)).rejects.toThrow(/outside/);
    } finally {
      await f.close();
    }
    await expect(f.readTensor('output_norm.weight')).rejects.toThrow(/closed/);
    await f.close(); // idempotent
  });

  it('grows its header read past the first 1 MiB', async () => {
    const tokens = Array.from({ length: 200_000 }, (_, i) => `token_${i}`); // ~3 MB of header
    const bytes = encodeGguf({
      metadata: [md.array('tokenizer.ggml.tokens', V.STRING, tokens)],
      tensors: [{ name: 'w', type: GgmlType.F32, dims: [4], data: Float32ToBytes([1, 2, 3, 4]) }],
    });
    expect(bytes.length).toBeGreaterThan(3 << 20);
    const path = join(dir, 'bigheader.gguf');
    await writeFile(path, bytes);
    const f = await GgufFile.open(path);
    expect(f.header.headerBytes).toBeGreaterThan(3 << 20);
    expect(new Float32Array((await f.readTensor('w')).buffer)).toEqual(new Float32Array([1, 2, 3, 4]));
    await f.close();
  });

  it('rejects a broken file with a GgufError and an unknown-type tensor cannot be read', async () => {
    const path = join(dir, 'broken.gguf');
    const m = model(4);
    const good = encodeGguf(m);
    const last = parseGgufHeader(good, good.length).tensors[3];
    await writeFile(path, good.subarray(0, last.offset + last.nbytes - 1)); // data one byte short
    await expect(GgufFile.open(path)).rejects.toThrow(GgufError);
    await expect(GgufFile.open(path)).rejects.toThrow(/blk.0.attn_v.weight.*past the end/);
    await expect(GgufFile.open(join(dir, 'missing.gguf'))).rejects.toThrow(/ENOENT/);
    const unk = new Raw()
      .header(2, 0)
      .tensor('u', [10, 3], 77, 0)
      .tensor('f', [8], 0, 0)
      .pad()
      .zeros(32)
      .build();
    await writeFile(path, unk);
    const f = await GgufFile.open(path);
    expect(f.tensor('u')).toMatchObject({ supported: false, nbytes: 0 });
    await expect(f.readTensor('u')).rejects.toThrow(/"u": type#77 is unknown; cannot read/);
    expect(await f.readTensor('f')).toEqual(new Uint8Array(32));
    await f.close();
  });

  it('opens a sparse 5 GiB file and reads bytes past 4 GiB', async () => {
    // filler: F32 [4096, 327680] = exactly 5 GiB, never written (sparse); then a small tensor after it
    const layout = encodeGgufHeader({
      metadata: [md.string('general.name', 'sparse')],
      tensors: [
        { name: 'filler', type: GgmlType.F32, dims: [4096, 327680] },
        { name: 'tail', type: GgmlType.Q8_0, dims: [64, 4] },
      ],
    });
    expect(layout.fileSize).toBeGreaterThan(5 * 2 ** 30);
    const path = join(dir, 'sparse.gguf');
    await writeFile(path, layout.bytes);
    await truncate(path, layout.fileSize);
    const rng = new Rng(5);
    const tail = randomBytes(rng, rowBytes(GgmlType.Q8_0, 64) * 4);
    const row = randomBytes(rng, 4096 * 4);
    const fh = await open(path, 'r+');
    const tailAt = layout.dataStart + layout.tensors[1].relOffset;
    const rowIndex = 300_000; // byte offset ~4.58 GiB
    const rowAt = layout.dataStart + rowIndex * 4096 * 4;
    expect(rowAt).toBeGreaterThan(2 ** 32);
    await fh.write(tail, 0, tail.length, tailAt);
    await fh.write(row, 0, row.length, rowAt);
    await fh.close();

    const t0 = performance.now();
    const f = await GgufFile.open(path);
    const openMs = performance.now() - t0;
    try {
      const t = f.tensor('tail');
      expect(t.offset).toBe(tailAt);
      expect(t.offset).toBeGreaterThan(5 * 2 ** 30);
      expect(await f.readTensor(t)).toEqual(tail);
      expect(await f.readRows('filler', rowIndex, 1)).toEqual(row);
      expect(await f.readRows('filler', rowIndex + 1, 1)).toEqual(new Uint8Array(4096 * 4));
      expect(f.header.tensors[0].nbytes).toBe(5 * 2 ** 30);
      expect(openMs).toBeLessThan(5000);
    } finally {
      await f.close();
      await rm(path);
    }
  });
});

function Float32ToBytes(v: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(v).buffer);
}
