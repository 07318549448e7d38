import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GgufFile,
  collapseSplitFiles,
  encodeGguf,
  md,
  splitFileName,
  splitNameParts,
  type MetaInput,
} from '../../src-main/engine/gguf';
import { GgmlType, rowBytes } from '../../src-main/engine/ggml-types';
import { Rng } from '../../src-main/engine/rng';
import { scanModelScales } from '../../src-main/engine/scales';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qs-split-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const specs = [
  { name: 'tok_embd.weight', type: GgmlType.Q4_0, dims: [128, 6] },
  { name: 'blk.0.ffn_up.weight', type: GgmlType.Q4_K, dims: [512, 3] },
  { name: 'blk.0.ffn_norm.weight', type: GgmlType.F32, dims: [13] },
  { name: 'blk.0.attn_v.weight', type: GgmlType.Q6_K, dims: [256, 2, 2] },
  { name: 'output.weight', type: GgmlType.Q8_0, dims: [64, 5] },
];

function tensors(seed: number) {
  const rng = new Rng(seed);
  return specs.map((s) => {
    const n = s.dims.slice(1).reduce((a, b) => a * b, 1);
    const data = new Uint8Array(rowBytes(s.type, s.dims[0]) * n);
    for (let i = 0; i < data.length; i++) data[i] = rng.u32() & 0xff;
    // finite half scales: the blocks' scale bytes stay below the half exponent's top (0x7c00)
    for (let i = 1; i < data.length; i += 2) data[i] &= 0x3b;
    return { ...s, data };
  });
}

const modelMeta: MetaInput[] = [
  md.string('general.architecture', 'llama'),
  md.string('general.name', 'split test'),
];

interface SplitOpts {
  /** per file: the split keys to write instead of the right ones (null: none) */
  keys?: (i: number, count: number, total: number) => MetaInput[] | null;
  /** tensor index ranges per file (default: 2, 2, 1 of the 5) */
  groups?: number[][];
}

/** Writes the model as `prefix-0000i-of-0000N.gguf` files in a folder of its own; returns their paths. */
async function writeSplit(name: string, opts: SplitOpts = {}): Promise<string[]> {
  const all = tensors(11);
  const groups = opts.groups ?? [[0, 1], [2, 3], [4]];
  const sub = await mkdtemp(join(dir, `${name}-`));
  const paths: string[] = [];
  for (let i = 0; i < groups.length; i++) {
    const keys = opts.keys
      ? opts.keys(i, groups.length, all.length)
      : [
          md.u16('split.no', i),
          md.u16('split.count', groups.length),
          md.i32('split.tensors.count', all.length),
        ];
    const metadata = [...(i === 0 ? modelMeta : []), ...(keys ?? [])];
    const p = join(sub, splitFileName(name, i, groups.length));
    await writeFile(p, encodeGguf({ metadata, tensors: groups[i].map((j) => all[j]) }));
    paths.push(p);
  }
  return paths;
}

describe('split models (several GGUF files, one model)', () => {
  it('opens from any of its files as one model: every tensor, its bytes, the first file’s metadata', async () => {
    const paths = await writeSplit('m');
    const whole = join(dir, 'whole.gguf');
    await writeFile(whole, encodeGguf({ metadata: modelMeta, tensors: tensors(11) }));
    const one = await GgufFile.open(whole);
    for (const p of paths) {
      const f = await GgufFile.open(p);
      try {
        expect(f.path).toBe(paths[0]);
        expect(f.shards.map((s) => s.path)).toEqual(paths);
        expect(f.header.tensors.map((t) => t.name)).toEqual(specs.map((s) => s.name));
        expect(f.header.tensors.map((t) => t.index)).toEqual([0, 1, 2, 3, 4]);
        expect(f.header.tensors.map((t) => t.shard)).toEqual([0, 0, 1, 1, 2]);
        expect(f.header.tensorCount).toBe(5);
        expect(f.header.fileSize).toBe(f.shards.reduce((s, x) => s + x.header.fileSize, 0));
        expect(f.header.metadata.find((e) => e.key === 'general.name')?.value).toBe('split test');
        for (const t of one.header.tensors) {
          expect(await f.readTensor(t.name)).toEqual(await one.readTensor(t));
          if (t.n > 1)
            expect(await f.readRows(t.name, 1, t.n - 1)).toEqual(await one.readRows(t, 1, t.n - 1));
        }
      } finally {
        await f.close();
      }
    }
    await one.close();
  });

  it('scans each file’s block scales and counts them for the right tensor', async () => {
    const paths = await writeSplit('scan');
    // a NaN half scale (0x7e00) in the first Q8_0 block of output.weight, the only tensor of file 3
    const f0 = await GgufFile.open(paths[0]);
    const t = f0.tensor('output.weight');
    await f0.close();
    const { open } = await import('node:fs/promises');
    const fh = await open(paths[2], 'r+');
    await fh.write(new Uint8Array([0x00, 0x7e]), 0, 2, t.offset);
    await fh.close();
    const f = await GgufFile.open(paths[0]);
    const counts = await scanModelScales(f);
    await f.close();
    expect(counts?.get(4)).toBe(1);
    expect([0, 1, 3].map((i) => counts?.get(i) ?? 0)).toEqual([0, 0, 0]);
  });

  it('names the missing file of an incomplete split model', async () => {
    const paths = await writeSplit('gone');
    await rm(paths[1]);
    await expect(GgufFile.open(paths[0])).rejects.toThrow(
      /file 2 of 3 of this split model: .*gone-00002-of-00003\.gguf: no such file/,
    );
  });

  it('refuses a split file renamed so that the others cannot be found', async () => {
    const paths = await writeSplit('renamed');
    const moved = join(dir, 'renamed-part.gguf');
    await rename(paths[1], moved);
    await expect(GgufFile.open(moved)).rejects.toThrow(
      /"renamed-part\.gguf" is file 2 of 3 of a split model .* does not end in -00002-of-00003\.gguf/,
    );
  });

  it('refuses files whose split keys disagree with their names or with each other', async () => {
    const wrongNo = await writeSplit('wrongno', {
      keys: (i, n, total) => [
        md.u16('split.no', i === 2 ? 1 : i),
        md.u16('split.count', n),
        md.i32('split.tensors.count', total),
      ],
    });
    await expect(GgufFile.open(wrongNo[0])).rejects.toThrow(
      /wrongno-00003-of-00003\.gguf: its split keys \(file 2 of 3\) do not make it file 3 of 3/,
    );
    const noKeys = await writeSplit('nokeys', {
      keys: (i, n, total) =>
        i === 1
          ? null
          : [md.u16('split.no', i), md.u16('split.count', n), md.i32('split.tensors.count', total)],
    });
    await expect(GgufFile.open(noKeys[0])).rejects.toThrow(
      /its split keys \(none\) do not make it file 2 of 3/,
    );
    const badCount = await writeSplit('count', {
      keys: (i, n) => [md.u16('split.no', i), md.u16('split.count', n), md.i32('split.tensors.count', 7)],
    });
    await expect(GgufFile.open(badCount[0])).rejects.toThrow(
      /split\.tensors\.count is 7, but the 3 files hold 5 tensors/,
    );
    const outside = await writeSplit('outside', {
      keys: (i, n) => [md.u16('split.no', i + 5), md.u16('split.count', n)],
    });
    await expect(GgufFile.open(outside[0])).rejects.toThrow(
      /split\.no is 5, outside the 3 files of split\.count/,
    );
  });

  it('refuses a tensor that is in two files', async () => {
    const paths = await writeSplit('dup', {
      groups: [
        [0, 1],
        [1, 2],
        [3, 4],
      ],
      keys: (i, n) => [md.u16('split.no', i), md.u16('split.count', n)],
    });
    await expect(GgufFile.open(paths[2])).rejects.toThrow(
      /tensor "blk\.0\.ffn_up\.weight" is in both dup-00001-of-00003\.gguf and dup-00002-of-00003\.gguf/,
    );
  });

  it('opens a split model whose first file holds only the metadata (gguf-split --no-tensor-first-split)', async () => {
    const paths = await writeSplit('meta', {
      groups: [[], [0, 1, 2], [3, 4]],
    });
    const f = await GgufFile.open(paths[2]);
    expect(f.header.tensors.map((t) => [t.name, t.shard])).toEqual(
      specs.map((x, i) => [x.name, i < 3 ? 1 : 2]),
    );
    expect(f.header.metadata.find((e) => e.key === 'general.architecture')?.value).toBe('llama');
    expect((await f.readTensor('output.weight')).length).toBe(rowBytes(GgmlType.Q8_0, 64) * 5);
    await f.close();
  });

  it('opens a file with split.count 1 as a model in one file', async () => {
    const p = join(dir, 'single.gguf');
    await writeFile(
      p,
      encodeGguf({
        metadata: [...modelMeta, md.u16('split.no', 0), md.u16('split.count', 1)],
        tensors: tensors(3),
      }),
    );
    const f = await GgufFile.open(p);
    expect(f.shards.length).toBe(1);
    expect(f.header.tensors.length).toBe(5);
    await f.close();
  });
});

describe('split file names', () => {
  it('takes the names llama.cpp writes apart', () => {
    expect(splitFileName('a/b-Q4_K_M', 1, 3)).toBe('a/b-Q4_K_M-00002-of-00003.gguf');
    expect(splitNameParts('b-Q4_K_M-00002-of-00003.gguf')).toEqual({ prefix: 'b-Q4_K_M', no: 1, count: 3 });
    expect(splitNameParts('b-00000-of-00003.gguf')).toBeNull();
    expect(splitNameParts('b-00004-of-00003.gguf')).toBeNull();
    expect(splitNameParts('model.gguf')).toBeNull();
  });

  it('lists a split model once, by its first file, with the size of all its files', () => {
    const list = collapseSplitFiles([
      { path: '/m/x-00001-of-00003.gguf', size: 10, source: 'models' },
      { path: '/m/x-00002-of-00003.gguf', size: 20, source: 'models' },
      { path: '/m/x-00003-of-00003.gguf', size: 30, source: 'models' },
      { path: '/m/lone-00002-of-00002.gguf', size: 5, source: 'models' },
      { path: '/m/only-00001-of-00002.gguf', size: 7, source: 'models' },
      { path: '/m/plain.gguf', size: 1, source: 'models' },
      { path: '/other/x-00002-of-00003.gguf', size: 40, source: 'models' },
    ]);
    expect(list).toEqual([
      { path: '/m/x-00001-of-00003.gguf', size: 60, source: 'models', files: 3 },
      { path: '/m/lone-00002-of-00002.gguf', size: 5, source: 'models' },
      { path: '/m/only-00001-of-00002.gguf', size: 7, source: 'models' },
      { path: '/m/plain.gguf', size: 1, source: 'models' },
      { path: '/other/x-00002-of-00003.gguf', size: 40, source: 'models' },
    ]);
  });
});
