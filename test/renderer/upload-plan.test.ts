import { describe, it, expect } from 'vitest';
import { planUpload, uploadingText } from '../../src-renderer/src/lib/upload';

const f = (name: string, size = 100) => ({ name, size });
const names = (plan: ReturnType<typeof planUpload<{ name: string; size: number }>>) =>
  'error' in plan ? plan.error : plan.files.map((x) => x.name);

describe('what the browser uploads for a choice of files', () => {
  it('sends one model file as it is, whatever its name', () => {
    expect(planUpload([f('model.gguf', 5)])).toEqual({
      files: [f('model.gguf', 5)],
      name: 'model.gguf',
      bytes: 5,
    });
    // the server judges names: a single file is not checked here
    expect(names(planUpload([f('notes.txt')]))).toEqual(['notes.txt']);
    // a split-like name of one file, or an out-of-range place, is a model in one file
    expect(names(planUpload([f('m-00001-of-00001.gguf')]))).toEqual(['m-00001-of-00001.gguf']);
    expect(names(planUpload([f('m-00000-of-00002.gguf')]))).toEqual(['m-00000-of-00002.gguf']);
  });

  it('sends all the files of one split model, first file first, with their total size', () => {
    const plan = planUpload([
      f('Llama-Q4_K_M-00002-of-00003.gguf', 20),
      f('Llama-Q4_K_M-00003-of-00003.gguf', 30),
      f('Llama-Q4_K_M-00001-of-00003.gguf', 10),
    ]);
    expect(plan).toEqual({
      files: [
        f('Llama-Q4_K_M-00001-of-00003.gguf', 10),
        f('Llama-Q4_K_M-00002-of-00003.gguf', 20),
        f('Llama-Q4_K_M-00003-of-00003.gguf', 30),
      ],
      name: 'Llama-Q4_K_M-00001-of-00003.gguf',
      bytes: 60,
    });
  });

  it('refuses one file of a split model of several: the others must come with it', () => {
    expect(names(planUpload([f('m-00002-of-00003.gguf')]))).toBe(
      'm-00001-of-00003.gguf is a split model of 3 files, but files 1 and 3 are missing: upload all 3 files together',
    );
  });

  it('refuses a set with missing files, naming them', () => {
    expect(names(planUpload([f('m-00001-of-00002.gguf')]))).toBe(
      'm-00001-of-00002.gguf is a split model of 2 files, but file 2 (m-00002-of-00002.gguf) is missing: upload all 2 files together',
    );
    const many = Array.from({ length: 3 }, (_, i) => f(`m-0000${i + 1}-of-00009.gguf`));
    expect(names(planUpload(many))).toBe(
      'm-00001-of-00009.gguf is a split model of 9 files, but files 4, 5, 6, 7 and 2 more are missing: upload all 9 files together',
    );
  });

  it('refuses files of different models, counts that disagree, a file twice, and plain files with others', () => {
    expect(names(planUpload([f('a-00001-of-00002.gguf'), f('b-00002-of-00002.gguf')]))).toBe(
      'a-00001-of-00002.gguf and b-00002-of-00002.gguf are files of different models: upload the files of one split model together',
    );
    expect(names(planUpload([f('a-00001-of-00002.gguf'), f('a-00002-of-00003.gguf')]))).toBe(
      'a-00001-of-00002.gguf and a-00002-of-00003.gguf disagree on how many files their model has (2 and 3)',
    );
    expect(
      names(planUpload([f('a-00001-of-00002.gguf'), f('a-00002-of-00002.gguf'), f('a-00002-of-00002.gguf')])),
    ).toBe('a-00002-of-00002.gguf is among the files twice');
    expect(names(planUpload([f('one.gguf'), f('two.gguf')]))).toBe(
      'one.gguf is not a file of a split model (name-00001-of-00003.gguf ...): a model in one file is uploaded alone, a split model with all of its files',
    );
    expect(
      names(planUpload([f('a-00001-of-00002.gguf'), f('a-00002-of-00002.gguf'), f('notes.txt')])),
    ).toMatch(/^notes\.txt is not a file of a split model/);
  });

  it('refuses a model of more files than one model may have', () => {
    expect(names(planUpload([f('m-00001-of-00300.gguf'), f('m-00002-of-00300.gguf')]))).toBe(
      'm-00001-of-00300.gguf is one of 300 files of a split model; QuantScope opens at most 256 files for one model',
    );
  });

  it('refuses an empty choice', () => {
    expect(planUpload([])).toEqual({ error: 'no file chosen' });
  });

  it('says what is uploading, and how much is sent', () => {
    const one = planUpload([f('model.gguf', 1536)]);
    const three = planUpload([
      f('m-00001-of-00003.gguf', 5 * 2 ** 20),
      f('m-00002-of-00003.gguf', 5 * 2 ** 20),
      f('m-00003-of-00003.gguf', 2.3 * 2 ** 20),
    ]);
    if ('error' in one || 'error' in three) throw new Error('expected plans');
    expect(uploadingText(one)).toBe('Uploading model.gguf (1.50 KiB)…');
    expect(uploadingText(three)).toBe('Uploading 3 files of m-00001-of-00003.gguf (12.3 MiB)…');
    expect(uploadingText(three, 5 * 2 ** 20)).toBe(
      'Uploading 3 files of m-00001-of-00003.gguf (12.3 MiB, 5.00 MiB sent)…',
    );
    // all sent: the server is opening it
    expect(uploadingText(three, 12.3 * 2 ** 20)).toBe(
      'Uploading 3 files of m-00001-of-00003.gguf (12.3 MiB)…',
    );
  });
});
