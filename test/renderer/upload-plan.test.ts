import { describe, it, expect } from 'vitest';
import {
  PROGRESS_EVERY_MS,
  RATE_AFTER_MS,
  RATE_WINDOW_MS,
  UploadMeter,
  fmtByteRate,
  planUpload,
  shouldShowProgress,
  uploadPercent,
  uploadRate,
  uploadingText,
  type UploadStats,
} from '../../src-renderer/src/lib/upload';

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

  it('says what is uploading, how much of it is sent, and when the server is opening it', () => {
    const one = planUpload([f('model.gguf', 1536)]);
    const three = planUpload([
      f('m-00001-of-00003.gguf', 5 * 2 ** 20),
      f('m-00002-of-00003.gguf', 5 * 2 ** 20),
      f('m-00003-of-00003.gguf', 2.3 * 2 ** 20),
    ]);
    if ('error' in one || 'error' in three) throw new Error('expected plans');
    const total = three.bytes;
    const at = (sent: number, rate: number | null = null, msLeft: number | null = null) => ({
      sent,
      total,
      rate,
      msLeft,
    });
    expect(uploadingText(one)).toBe('Uploading model.gguf (1.50 KiB)…');
    expect(uploadingText(three)).toBe('Uploading 3 files of m-00001-of-00003.gguf (12.3 MiB)…');
    expect(uploadingText(three, at(0))).toBe('Uploading 3 files of m-00001-of-00003.gguf (12.3 MiB)…');
    // bytes of all the files and the percent; no rate until it is known
    expect(uploadingText(three, at(5 * 2 ** 20))).toBe(
      'Uploading 3 files of m-00001-of-00003.gguf: 5.00 MiB of 12.3 MiB (40%)',
    );
    expect(uploadingText(three, at(5 * 2 ** 20, 2 ** 20, 7300))).toBe(
      'Uploading 3 files of m-00001-of-00003.gguf: 5.00 MiB of 12.3 MiB (40%), 1.00 MiB/s, about 7 s left',
    );
    // all sent: the server is opening it
    expect(uploadingText(three, at(total))).toBe(
      'Uploaded 3 files of m-00001-of-00003.gguf (12.3 MiB); the server is opening it…',
    );
  });

  it('writes a 40 GiB upload the way a long upload reads', () => {
    const big = planUpload([f('big.gguf', 40 * 2 ** 30)]);
    if ('error' in big) throw new Error('expected a plan');
    expect(
      uploadingText(big, { sent: 12 * 2 ** 30, total: big.bytes, rate: 110 * 2 ** 20, msLeft: 250_000 }),
    ).toBe('Uploading big.gguf: 12.0 GiB of 40.0 GiB (30%), 110 MiB/s, about 4 min 10 s left');
    expect(
      uploadingText(big, { sent: 2 ** 30, total: big.bytes, rate: 2 ** 20, msLeft: 40_000_000 }),
    ).toMatch(/, 1\.00 MiB\/s, about 11 h 6 min left$/);
    // the last moments never say "0 s"
    expect(
      uploadingText(big, { sent: big.bytes - 1, total: big.bytes, rate: 2 ** 30, msLeft: 0.001 }),
    ).toMatch(/\(99%\), 1\.00 GiB\/s, about 1 s left$/);
  });

  it('rounds the percent down, so 100% means every byte', () => {
    expect(uploadPercent(0, 1000)).toBe(0);
    expect(uploadPercent(299, 1000)).toBe(29);
    expect(uploadPercent(999_999, 1_000_000)).toBe(99);
    expect(uploadPercent(1000, 1000)).toBe(100);
    expect(uploadPercent(0, 0)).toBe(100);
    expect(fmtByteRate(1536)).toBe('1.50 KiB/s');
  });
});

describe('how often the upload progress is drawn', () => {
  it('draws the first report, then at most one per interval, and always the last byte', () => {
    expect(shouldShowProgress(null, 0, 1, 100)).toBe(true);
    expect(shouldShowProgress(1000, 1000 + PROGRESS_EVERY_MS - 1, 50, 100)).toBe(false);
    expect(shouldShowProgress(1000, 1000 + PROGRESS_EVERY_MS, 50, 100)).toBe(true);
    expect(shouldShowProgress(1000, 1001, 100, 100)).toBe(true);
  });

  it('measures the rate only once the upload has run a few seconds, over the latest samples', () => {
    expect(uploadRate([])).toBeNull();
    expect(uploadRate([[0, 0]])).toBeNull();
    expect(
      uploadRate([
        [0, 0],
        [RATE_AFTER_MS - 1, 1000],
      ]),
    ).toBeNull();
    expect(
      uploadRate([
        [0, 0],
        [4000, 8000],
      ]),
    ).toBe(2000);
    // nothing moved: no rate (and no time left)
    expect(
      uploadRate([
        [0, 500],
        [5000, 500],
      ]),
    ).toBeNull();
  });

  it('lets a few of many reports through, each with the rate and the time left', () => {
    // 1 MiB/s reported every 10 ms for 20 s: 2000 reports
    const total = 40 * 2 ** 20;
    const meter = new UploadMeter(total, 0);
    const shown: UploadStats[] = [];
    for (let t = 10; t <= 20_000; t += 10) {
      const stats = meter.update((t / 1000) * 2 ** 20, t);
      if (stats) shown.push(stats);
    }
    expect(shown.length).toBeGreaterThan(20_000 / PROGRESS_EVERY_MS - 5);
    expect(shown.length).toBeLessThanOrEqual(20_000 / PROGRESS_EVERY_MS + 1);
    // no rate during the first seconds
    expect(
      shown.filter((s) => s.rate === null).every((s) => s.sent < (RATE_AFTER_MS / 1000 + 0.3) * 2 ** 20),
    ).toBe(true);
    const last = shown.at(-1)!;
    expect(last.rate).toBeCloseTo(2 ** 20, -2);
    // 40 MiB at 1 MiB/s: what is left of 40 s
    expect(last.msLeft).toBeCloseTo(40_000 - (last.sent / 2 ** 20) * 1000, -1);
    expect(last.msLeft! / 1000).toBeCloseTo(20, 0);
    // the last byte is drawn at once, even right after another report
    const end = meter.update(total, 20_001);
    expect(end).toMatchObject({ sent: total, total, msLeft: 0 });
  });

  it('follows a change of speed within the rate window', () => {
    const meter = new UploadMeter(10 * 2 ** 30, 0);
    let sent = 0;
    let stats: UploadStats | null = null;
    // 60 s at 10 MiB/s, then 30 s at 1 MiB/s
    for (let t = 100; t <= 90_000; t += 100) {
      sent += (t <= 60_000 ? 10 : 1) * 2 ** 20 * 0.1;
      stats = meter.update(sent, t) ?? stats;
    }
    expect(stats!.rate! / 2 ** 20).toBeCloseTo(1, 1);
    expect(RATE_WINDOW_MS).toBeLessThan(30_000);
  });
});
