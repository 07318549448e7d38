import { describe, expect, it } from 'vitest';
import { inflateSync } from 'node:zlib';
import {
  mapSummary,
  NOT_COMPARED_LEGEND,
  NOT_COMPARED_ROWS_LEGEND,
  renderReport,
  reportFileName,
  verdict,
  type ReportInput,
} from '../../src-main/engine/report/report';
import type { TensorResult } from '../../src-shared/contract';

function result(over: Partial<TensorResult>): TensorResult {
  return {
    resultId: 'r:t:1',
    runId: 'r',
    tensor: 'blk.0.ffn_down.weight',
    type: 'Q4_K',
    n: 4096,
    k: 14336,
    m: 1,
    backend: 'cuda',
    device: 'cuda:0 H100',
    path: 'fused-small-f32',
    status: 'pass',
    threshold: 1e-8,
    metrics: {
      nmse: 3e-14,
      maxAbsErr: 1e-6,
      maxRelErr: 1e-7,
      nanMismatches: 0,
      infMismatches: 0,
      count: 4096,
      worst: null,
    },
    timing: {
      protocol: 'cold',
      medianUs: 32,
      minUs: 31,
      maxUs: 33,
      spread: 0.02,
      samples: 20,
      weightCopies: 8,
      gbps: 1031,
      tflops: 3.7,
      pctPeak: 31,
      pctCopy: 36,
    },
    unfused: null,
    weightBytes: 33030144,
    gridAvailable: true,
    elapsedMs: 10,
    ...over,
  };
}

function input(results: TensorResult[], status = 'done'): ReportInput {
  return {
    runId: 'r',
    createdAt: '2026-11-26T23:00:00.000Z',
    startedAt: '2026-11-26T22:59:00.000Z',
    appVersion: '0.1.0',
    host: 'test',
    model: { fileName: 'm <x>.gguf', path: '/m.gguf', fileSize: 1e9, architecture: 'llama', name: null },
    device: null,
    backend: 'cuda',
    request: { batchSizes: [1], seed: 1, timing: 'cold', path: 'auto', threshold: null, tensors: 1 },
    status,
    results,
  };
}

describe('correctness report', () => {
  it('gives the verdict: PASS only when every result passed and the run finished', () => {
    expect(verdict(input([result({})]))).toBe('PASS');
    expect(verdict(input([result({}), result({ status: 'fail' })]))).toBe('FAIL');
    expect(verdict(input([result({ status: 'error', error: 'cuLaunchKernel failed' })]))).toBe('FAIL');
    expect(verdict(input([result({})], 'cancelled'))).toBe('INCOMPLETE');
    expect(verdict(input([]))).toBe('INCOMPLETE');
  });

  it('renders HTML with escaped names, metrics and bandwidth; JSON with the schema; Markdown table', () => {
    const i = input([
      result({}),
      result({ status: 'error', error: 'out of memory <fatal>', metrics: null, timing: null }),
    ]);
    const html = renderReport(i, 'html');
    expect(html).toContain('m &lt;x&gt;.gguf');
    expect(html).not.toContain('m <x>.gguf');
    expect(html).toContain('3.00e-14');
    expect(html).toContain('ERROR: out of memory &lt;fatal&gt;');
    expect(html).toContain('<svg');
    const json = JSON.parse(renderReport(i, 'json'));
    expect(json.schema).toBe('quantscope-report/1');
    expect(json.verdict).toBe('FAIL');
    expect(json.counts).toEqual({ total: 2, passed: 1, failed: 0, errors: 1, notComparable: 0 });
    const md = renderReport(i, 'md');
    expect(md).toContain('# QuantScope correctness report — FAIL');
    expect(md.split('\n').filter((l) => l.startsWith('| blk.'))).toHaveLength(2);
    expect(reportFileName(i, 'html')).toBe('quantscope-m_x_-cuda-2026-11-26T230000.html');
  });

  it('writes a threshold as it was given, and an NMSE beside it with the digits the verdict needs', () => {
    const r = result({
      status: 'fail',
      threshold: 1.234e-14,
      metrics: { ...result({}).metrics!, nmse: 1.2345e-14 },
    });
    const i = { ...input([r]), request: { ...input([]).request, threshold: 1.234e-14 } };
    const md = renderReport(i, 'md');
    expect(md).toContain('threshold 1.234e-14;');
    const row = md.split('\n').find((l) => l.startsWith('| blk.'))!;
    // 1.23e-14 would read as under the threshold
    expect(row).toContain('| 1.235e-14 | 1.234e-14 |');
    expect(renderReport(i, 'html')).toContain('threshold 1.234e-14;');
    // the default threshold reads as it is written everywhere else
    expect(renderReport(input([result({})]), 'md')).toContain('| 3.00e-14 | 1e-8 |');
  });

  it('labels bandwidth bars and reference lines to significant digits, as the app does', () => {
    const t = result({}).timing!;
    const slow = result({ timing: { ...t, gbps: 0.4327, tflops: 0.00106, pctPeak: null, pctCopy: 0.87 } });
    const i = { ...input([slow]), device: { copyBandwidthGBs: 9.64 } as ReportInput['device'] };
    const html = renderReport(i, 'html');
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    expect(svg).toContain('>0.433</text>');
    expect(svg).toContain('>copy 9.64</text>');
    // the table's rates too: not "0.4" and "0.00"
    const row = renderReport(i, 'md')
      .split('\n')
      .find((l) => l.startsWith('| blk.'))!;
    expect(row).toContain('| 0.433 | 0.00106 |');
  });

  it("names a cpu's worker threads, singular for one, and a GPU's compute units", () => {
    const dev = {
      backend: 'cpu',
      index: 0,
      name: 'AMD EPYC',
      arch: 'x64',
      computeUnits: 1,
      memoryTotal: 2 ** 30,
      peakBandwidthGBs: null,
      copyBandwidthGBs: null,
    } as unknown as ReportInput['device'];
    const html = (d: ReportInput['device']) => renderReport({ ...input([result({})]), device: d }, 'html');
    expect(html(dev)).toContain('cpu:0 AMD EPYC (x64, 1 worker thread, 1.00 GiB)');
    // the app's engine keeps a core for its UI (one thread fewer than the CLI): the line says so
    expect(html({ ...dev!, threadsKeptForApp: 1 } as ReportInput['device'])).toContain(
      'cpu:0 AMD EPYC (x64, 1 worker thread (one core kept for the app), 1.00 GiB)',
    );
    expect(html({ ...dev!, backend: 'hip', computeUnits: 104 } as ReportInput['device'])).toContain(
      '(x64, 104 CUs, ',
    );
  });

  it('adds what fusion saves when the unfused baseline ran', () => {
    const r = result({
      unfused: {
        metrics: {
          nmse: 2e-13,
          maxAbsErr: 1e-6,
          maxRelErr: 1e-7,
          nanMismatches: 0,
          infMismatches: 0,
          count: 4096,
          worst: null,
        },
        timing: { ...result({}).timing!, medianUs: 96 },
      },
    });
    const md = renderReport(input([r]), 'md');
    expect(md).toContain('unfused µs');
    expect(md).toContain('| 96.0 | 2.00e-13 | 3.00× |');
    expect(renderReport(input([result({})]), 'md')).not.toContain('unfused');
  });
});

describe('maps in the HTML report', () => {
  it('draws the error heatmap and the weight map of a result as inline PNG images', () => {
    const heat = {
      m: 2,
      n: 6,
      rows: 2,
      cols: 3,
      cellRows: 1,
      cellCols: 2,
      values: [0, 1e-9, 1e-6, NaN, 3e-4, 2e-7],
      min: 0,
      max: 3e-4,
    };
    const r = result({ status: 'fail' });
    const i = {
      ...input([r]),
      maps: { [r.resultId]: { heatmap: heat, weights: { ...heat, rows: 1, cols: 6, values: heat.values } } },
    };
    const html = renderReport(i, 'html');
    expect(html).toContain('img-src data:');
    const imgs = [...html.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((x) =>
      Buffer.from(x[1], 'base64'),
    );
    expect(imgs).toHaveLength(2);
    for (const [png, w, hgt] of [
      [imgs[0], 3, 2],
      [imgs[1], 6, 1],
    ] as const) {
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([w, hgt]);
      // the pixels: one filter byte per row, then 3 bytes per pixel
      const idat = png.indexOf('IDAT');
      const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
      expect(raw.length).toBe(hgt * (1 + 3 * w));
    }
    // zero is white, NaN magenta
    const raw = inflateSync(
      imgs[0].subarray(
        imgs[0].indexOf('IDAT') + 4,
        imgs[0].indexOf('IDAT') + 4 + imgs[0].readUInt32BE(imgs[0].indexOf('IDAT') - 4),
      ),
    );
    expect([...raw.subarray(1, 4)]).toEqual([255, 255, 255]);
    expect([...raw.subarray(11, 14)]).toEqual([230, 0, 230]);
    expect(html).toContain('<h2>Heatmaps</h2>');
    // nothing left out: the legend does not speak of it
    expect(html).not.toContain(NOT_COMPARED_LEGEND);
    expect(html).not.toContain('not compared');
    // no maps, no section
    expect(renderReport(input([r]), 'html')).not.toContain('<h2>Heatmaps</h2>');
  });

  it('draws the columns whose outputs were all left out grey, and says so in the caption and legend', () => {
    // 2 x 8 outputs in 2 x 4 cells of 2 columns: column 1 has both its outputs left out (grey), column
    // 3 one of two (its cells show the error of the other output, not grey)
    const heat = {
      m: 2,
      n: 8,
      rows: 2,
      cols: 4,
      cellRows: 1,
      cellCols: 2,
      values: [1e-7, 0, 2e-7, 3e-7, 4e-7, 0, 5e-7, 6e-7],
      min: 1e-7,
      max: 6e-7,
      leftOutCols: [0, 2, 0, 1],
    };
    const r = result({ status: 'not-comparable' });
    const html = renderReport({ ...input([r]), maps: { [r.resultId]: { heatmap: heat } } }, 'html');
    const b64 = /src="data:image\/png;base64,([^"]+)"/.exec(html)![1];
    const png = Buffer.from(b64, 'base64');
    const idat = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
    const px = (row: number, col: number) => [
      ...raw.subarray(row * 13 + 1 + col * 3, row * 13 + 4 + col * 3),
    ];
    for (const row of [0, 1]) {
      expect(px(row, 1)).toEqual([128, 128, 128]);
      for (const col of [0, 2, 3]) expect(px(row, col)).not.toEqual([128, 128, 128]);
    }
    expect(html).toContain('3 of 8 output columns not compared (grey)</figcaption>');
    expect(html).toContain(`White: no error; magenta: NaN or infinite. ${NOT_COMPARED_LEGEND}</p>`);
    // only part of a column left out: counted in the caption, nothing grey
    const part = { ...heat, leftOutCols: [0, 1, 0, 0] };
    const html2 = renderReport({ ...input([r]), maps: { [r.resultId]: { heatmap: part } } }, 'html');
    expect(html2).toContain('1 of 8 output columns not compared</figcaption>');
    expect(html2).toContain(NOT_COMPARED_LEGEND);
  });
});

describe('maps in the Markdown report', () => {
  // 4 x 8 outputs in 2 x 4 cells of 2 x 2: column 1 (outputs 2 and 3) left out entirely
  const heat = {
    m: 4,
    n: 8,
    rows: 2,
    cols: 4,
    cellRows: 2,
    cellCols: 2,
    values: [1e-7, 0, 3e-4, 2e-6, 3e-4, 0, 0, Infinity],
    min: 1e-7,
    max: Infinity,
    leftOutCols: [0, 2, 0, 0],
  };
  // 6 weight rows x 8 probed elements (elements 0-3 and 64-67, blocks of 32) in 3 x 4 cells of
  // 2 x 2: weight rows 2 and 3 (cell row 1) left out, weight row 5 too (half of cell row 2)
  const weights = {
    m: 6,
    n: 8,
    rows: 3,
    cols: 4,
    cellRows: 2,
    cellCols: 2,
    values: [0, 0, 0.5, 0, 0, 0, 0, 0, 0.25, 0, 0, 0],
    min: 0,
    max: 0.5,
    leftOutRows: [0, 2, 1],
  };
  const weightMap = {
    n: 6,
    k: 96,
    blockElems: 32,
    subElems: 32,
    spans: [
      [0, 4],
      [64, 68],
    ] as [number, number][],
    rowsLeftOut: 3,
  };

  it('a table row per map: grid, largest and mean cell, worst cells and where they lie, what was not compared', () => {
    const r = result({
      status: 'fail',
      tensor: 'blk.0.attn_q.weight',
      m: 4,
      n: 8,
      weightMap,
      diagnosis: {
        class: 'unknown',
        sentence: 'wrong weights that match none of the known defects',
        evidence: [],
      },
    });
    const md = renderReport({ ...input([r]), maps: { [r.resultId]: { heatmap: heat, weights } } }, 'md');
    const section = md.slice(md.indexOf('## Heatmaps'));
    expect(section.split('\n').filter((l) => l.startsWith('|'))).toEqual([
      '| map | result | grid | max | mean | worst cells | not compared |',
      '|---|---|---|---|---|---|---|',
      // the mean is of the finite cells compared (column 1 is out); the infinite cell is named first,
      // then equal values in cell order
      '| output | blk.0.attn\\_q.weight m=4 | 2×4 of 2×2 (4×8) | ∞ | 1.20e-4 (+1 NaN/Inf) | rows 2–3 × cols 6–7: ∞; rows 0–1 × cols 4–5: 3.00e-4; rows 2–3 × cols 0–1: 3.00e-4 | 2 of 8 output columns |',
      // probed columns named as elements of their blocks; the grey cell row is in nothing but the count
      '| weights | blk.0.attn\\_q.weight m=4 | 3×4 of 2×2 (6×8) | 5.00e-1 | 9.38e-2 | weight rows 0–1 × elements 64–65 (block 2): 5.00e-1; weight rows 4–5 × elements 0–1 (block 0): 2.50e-1 | 3 of 6 weight rows |',
    ]);
    // the section ends the report, a blank line after the diagnoses' list
    expect(md).toMatch(/known defects\n\n## Heatmaps\n\nEach map reduced by maximum, in absolute error: /);
    expect(md.endsWith('| 3 of 6 weight rows |\n')).toBe(true);
    // the same input, the same text
    expect(renderReport({ ...input([r]), maps: { [r.resultId]: { heatmap: heat, weights } } }, 'md')).toBe(
      md,
    );
  });

  it('without the geometry the weight map names probed columns; without maps there is no section', () => {
    const r = result({ status: 'fail' });
    const md = renderReport({ ...input([r]), maps: { [r.resultId]: { weights } } }, 'md');
    expect(md).toContain(
      '| weights | blk.0.ffn\\_down.weight m=1 | 3×4 of 2×2 (6×8) | 5.00e-1 | 9.38e-2 | weight rows 0–1 × probed columns 4–5: 5.00e-1; weight rows 4–5 × probed columns 0–1: 2.50e-1 | 3 of 6 weight rows |',
    );
    expect(md).not.toContain('| output |');
    expect(renderReport(input([r]), 'md')).not.toContain('## Heatmaps');
    // a clean map: nothing worst, nothing left out
    const clean = { ...heat, values: new Array(8).fill(0), max: 0, leftOutCols: undefined };
    expect(renderReport({ ...input([r]), maps: { [r.resultId]: { heatmap: clean } } }, 'md')).toContain(
      '| output | blk.0.ffn\\_down.weight m=1 | 2×4 of 2×2 (4×8) | 0 | 0 | — | — |',
    );
  });

  it('mapSummary: NaN (null from JSON) is a non-finite cell, and cells left out are in nothing', () => {
    const s = mapSummary({ ...heat, values: [1e-7, 5, null as unknown as number, 2e-6, 0, 0, 0, 1e-6] });
    // cell 1 is in the column left out: its 5 counts nowhere
    expect(s).toEqual({
      max: Infinity,
      mean: (1e-7 + 2e-6 + 1e-6) / 5,
      compared: 6,
      nonFinite: 1,
      worst: [2, 3, 7],
    });
  });
});

describe('the weight map in the HTML report', () => {
  it('greys the weight rows left out, and says so in the caption and legend', () => {
    const weights = {
      m: 4,
      n: 2,
      rows: 2,
      cols: 2,
      cellRows: 2,
      cellCols: 1,
      values: [0, 0, 0.5, 0.25],
      min: 0,
      max: 0.5,
      leftOutRows: [2, 0],
    };
    const r = result({ status: 'fail' });
    const html = renderReport({ ...input([r]), maps: { [r.resultId]: { weights } } }, 'html');
    expect(html).toContain('2 of 4 weight rows not compared (grey)</figcaption>');
    expect(html).toContain(NOT_COMPARED_ROWS_LEGEND);
    expect(html).not.toContain(NOT_COMPARED_LEGEND);
    const png = Buffer.from(/src="data:image\/png;base64,([^"]+)"/.exec(html)![1], 'base64');
    const idat = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
    // a filter byte, then 2 pixels of 3 bytes, per row: row 0 grey, row 1 coloured
    expect([...raw.subarray(1, 7)]).toEqual([128, 128, 128, 128, 128, 128]);
    expect([...raw.subarray(8, 11)]).not.toEqual([128, 128, 128]);
    // one of two rows left out: counted, not grey
    const part = { ...weights, leftOutRows: [1, 0] };
    const html2 = renderReport({ ...input([r]), maps: { [r.resultId]: { weights: part } } }, 'html');
    expect(html2).toContain('1 of 4 weight rows not compared</figcaption>');
  });
});
