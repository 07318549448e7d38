// The bench report (bench --report, records <id> --report): the peer column with its source line, the
// chart of our times beside the peer's with the peer in its legend, everything from the record escaped;
// no peer column, series or label where the record holds no peer figures.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecord } from '../../src-main/engine/records/build';
import type { BenchRow, RunRecord } from '../../src-main/engine/records/schema';
import { BENCH_REPORT_SCHEMA, renderBenchReport } from '../../src-main/engine/report/bench-report';
import { shutdownPool } from '../../src-main/engine/workers/pool';
import { cli } from '../cli/helpers';

function row(format: string, m: number, protocol: string, medianUs: number, peerUs: number | null): BenchRow {
  return {
    format,
    n: 4096,
    k: 14336,
    m,
    protocol,
    requested: 'auto',
    path: 'fused-small-q8',
    medianUs,
    iqrUs: 0.2,
    spread: 0.031,
    samples: 30,
    gbps: 3270,
    tflops: 11.9,
    pctPeak: 68,
    pctCopy: 78,
    peerUs,
    check: { status: 'pass', nmse: 2e-15 },
  };
}

const PEER = {
  label: 'llama.cpp <b>(perf|sql)</b>',
  source: '--peer perf.sql',
  device: 'NVIDIA H200',
  commit: 'd99724f',
  measuredAt: '2026-12-03T10:00:00Z',
};

function record(peer: typeof PEER | null, rows: BenchRow[]): RunRecord {
  return buildRecord({
    kind: 'bench',
    createdAt: new Date('2026-12-03T11:00:00Z'),
    device: { backend: 'cuda', index: 0, name: 'NVIDIA H200', arch: 'sm_90', copyBandwidthGBs: 4200 },
    model: null,
    request: {},
    status: 'done',
    results: [],
    bench: {
      shape: { n: 4096, k: 14336 },
      repeats: 30,
      protocols: ['hot', 'cold'],
      paths: ['auto'],
      peer,
      rows,
    },
  });
}

const ROWS = [
  row('Q4_K', 1, 'hot', 10.1, 16.36),
  row('Q4_K', 1, 'cold', 14.3, 16.36),
  row('Q4_K', 512, 'hot', 321, null),
];
const WITH = record(PEER, ROWS);
const WITHOUT = record(
  null,
  ROWS.map((r) => ({ ...r, peerUs: null })),
);
const SOURCE_HTML =
  'llama.cpp &lt;b&gt;(perf|sql)&lt;/b&gt; · device NVIDIA H200 · build d99724f · measured 2026-12-03T10:00:00Z · source: --peer perf.sql';

/** The HTML without its embedded data block (which holds the raw record as JSON). */
const visible = (html: string) => html.replace(/<script type="application\/json"[\s\S]*?<\/script>/, '');

describe('bench report: HTML', () => {
  it('the peer column with its source line, and the chart with the peer in its legend', () => {
    const html = visible(renderBenchReport(WITH, 'html'));
    expect(html).toContain('<th class="num">peer µs</th><th class="num">vs peer</th><th>check</th>');
    // 16.36 / 10.1 and 16.36 / 14.3; the m = 512 row has no peer figure
    expect(html).toMatch(/<td class="num">16\.4<\/td><td class="num">1\.62×<\/td>/);
    expect(html).toMatch(/<td class="num">16\.4<\/td><td class="num">1\.14×<\/td>/);
    expect(html).toMatch(
      /<td class="num">321\.0<\/td>(<td[^>]*>[^<]*<\/td>){7}<td class="num">—<\/td><td class="num">—<\/td>/,
    );
    expect(html).toContain(`<dd data-peer="yes">${SOURCE_HTML}</dd>`);
    expect(html).toContain(`<p class="muted peer-source">Peer µs: ${SOURCE_HTML}.`);
    expect(html).toContain(`<p class="muted chart-peer-source">Peer: ${SOURCE_HTML}</p>`);
    // the chart: our two series and the peer's, named in the legend; bars carry their values
    const svg = /<svg class="chart"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    expect(svg).toContain('aria-label="median µs per format and batch size, beside the peer"');
    expect(svg).toContain('>QuantScope hot</text>');
    expect(svg).toContain('>QuantScope cold</text>');
    expect(svg).toContain('>llama.cpp &lt;b&gt;(perf|sql)&lt;/b&gt;</text>');
    expect(svg).toContain('<title>Q4_K m=1 · llama.cpp &lt;b&gt;(perf|sql)&lt;/b&gt;: 16.4 µs</title>');
    expect(svg).toContain('<title>Q4_K m=512 · QuantScope hot: 321.0 µs</title>');
    // every tick names its unit (the axis has none): 10 µs to 1 ms here
    expect([...svg.matchAll(/<text class="tick"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1])).toEqual([
      '10 µs',
      '100 µs',
      '1 ms',
    ]);
    // 3 of ours, 1 of the peer's (it has no m = 512 figure)
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(4);
    // nothing from the record opens markup
    expect(html).not.toContain('<b>');
  });

  it('without peer figures: no peer column, series or label, and it says why', () => {
    const html = visible(renderBenchReport(WITHOUT, 'html'));
    expect(html).not.toContain('peer µs');
    expect(html).not.toContain('vs peer');
    expect(html).not.toContain('llama.cpp');
    expect(html).not.toContain('chart-peer-source');
    expect(html).toContain(
      '<dd data-peer="none">none: no --peer file, and no built-in figures for this GPU</dd>',
    );
    expect(html).toContain('aria-label="median µs per format and batch size"');
    expect(html.match(/<rect [^>]*><title>/g)).toHaveLength(3);
    // a named peer without a figure for these shapes: named, but no column and no series
    const named = visible(renderBenchReport(record(PEER, WITHOUT.bench!.rows), 'html'));
    expect(named).not.toContain('peer µs');
    expect(named).toContain('<dd data-peer="none">none for these shapes (llama.cpp &lt;b&gt;');
  });

  it("a cpu's small shares of its copy bandwidth keep their significant digits", () => {
    const md = renderBenchReport(
      record(null, [{ ...row('Q4_K', 1, 'hot', 9000, null), pctPeak: null, pctCopy: 0.433 }]),
      'md',
    );
    expect(md).toMatch(/\| — \| 0\.433 \| PASS/);
  });

  it('the embedded data block cannot close its script element', () => {
    const rec = record({ ...PEER, label: '</script><img src=x>' }, ROWS);
    const html = renderBenchReport(rec, 'html');
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(html).not.toContain('<img');
  });
});

describe('bench report: Markdown and JSON', () => {
  it('Markdown: the peer column and its source line, escaped', () => {
    const md = renderBenchReport(WITH, 'md');
    expect(md).toContain('| peer µs | vs peer | check |');
    expect(md).toMatch(/\| 10\.1 \|.*\| 16\.4 \| 1\.62× \| PASS 2\.00e-15 \|/);
    const src =
      'llama.cpp &lt;b&gt;\\(perf\\|sql\\)&lt;/b&gt; · device NVIDIA H200 · build d99724f · measured 2026-12-03T10:00:00Z · source: --peer perf.sql';
    expect(md).toContain(`- Peer: ${src}`);
    expect(md).toContain(`Peer µs: ${src}.`);
    expect(md).not.toContain('<b>');
    const none = renderBenchReport(WITHOUT, 'md');
    expect(none).not.toContain('peer µs');
    expect(none).toContain('- Peer: none: no --peer file, and no built-in figures for this GPU');
  });

  it('JSON: the record, the peer and its source line, and the chart the HTML draws', () => {
    const j = JSON.parse(renderBenchReport(WITH, 'json'));
    expect(j.schema).toBe(BENCH_REPORT_SCHEMA);
    expect(j.peer).toEqual(PEER);
    expect(j.peerSource).toBe(
      'llama.cpp <b>(perf|sql)</b> · device NVIDIA H200 · build d99724f · measured 2026-12-03T10:00:00Z · source: --peer perf.sql',
    );
    expect(j.chart.series.map((s: { label: string }) => s.label)).toEqual([
      'QuantScope hot',
      'QuantScope cold',
      PEER.label,
    ]);
    expect(j.record.id).toBe(WITH.id);
    expect(JSON.parse(renderBenchReport(WITHOUT, 'json')).peerSource).toBeNull();
  });

  it('a record of another kind is refused with one line', () => {
    const v = { ...WITH, kind: 'verify' as const };
    expect(() => renderBenchReport(v, 'html')).toThrow(
      /is a verify record: a bench report needs a bench record$/,
    );
  });
});

describe('bench --report and records <id> --report', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-bench-report-'));
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await shutdownPool();
  });

  it('the run writes its report with the peer file as source; the saved record makes the same report', async () => {
    // llama.cpp's SQL output for the same shape: ggml's m is our n, its n our m
    const peerFile = path.join(dir, 'perf.sql');
    fs.writeFileSync(
      peerFile,
      "INSERT INTO test_backend_ops (test_time, build_commit, backend_name, op_name, op_params, test_mode, supported, passed, error_message, time_us, flops, bandwidth_gb_s, memory_kb, n_runs, device_description, backend_reg_name) VALUES ('2026-12-03T10:00:00Z', 'd99724f', 'CUDA0', 'MUL_MAT', 'type_a=q4_0,type_b=f32,m=64,n=1,k=256,bs=[1,1],nr=[1,1],per=[0,1,2,3],k_v=0,o=1', 'perf', '1', '1', '', '3.250000', '0', '0', '0', '100', 'NVIDIA H200', 'CUDA');\n",
    );
    const store = path.join(dir, 'records');
    const html = path.join(dir, 'bench.html');
    const args = ['bench', '--backend', 'cpu', '--formats', 'q4_0', '--m', '1,2', '--n', '64', '--k', '256'];
    const r = await cli(...args, '--repeats', '3', '--peer', peerFile, '--report', html, '--records', store);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.err).toContain(`report written to ${html}`);
    const m = /record saved: (.+)\n/.exec(r.err);
    expect(m, r.err).not.toBeNull();
    const rec = JSON.parse(fs.readFileSync(m![1], 'utf8')) as RunRecord;
    expect(rec.bench!.peer).toEqual({
      label: `llama.cpp (${peerFile}, NVIDIA H200)`,
      source: `--peer ${peerFile}`,
      device: 'NVIDIA H200',
      commit: 'd99724f',
      measuredAt: '2026-12-03T10:00:00Z',
    });
    expect(rec.bench!.rows.map((x) => x.peerUs)).toEqual([3.25, null]);

    const source = `llama.cpp (${peerFile}, NVIDIA H200) · device NVIDIA H200 · build d99724f · measured 2026-12-03T10:00:00Z · source: --peer ${peerFile}`;
    const page = visible(fs.readFileSync(html, 'utf8'));
    expect(page).toContain(`record ${rec.id}`);
    expect(page).toContain('<th class="num">peer µs</th>');
    expect(page).toContain(`<p class="muted chart-peer-source">Peer: ${source}</p>`);
    // the report is the record's: made again from the saved file, it is the same page
    expect(renderBenchReport(rec, 'html')).toBe(fs.readFileSync(html, 'utf8'));

    const md = path.join(dir, 'bench.md');
    const again = await cli('records', rec.id, '--records', store, '--report', md);
    expect(again.code, again.err).toBe(0);
    expect(again.err).toBe(`report written to ${md}\n`);
    expect(fs.readFileSync(md, 'utf8')).toBe(renderBenchReport(rec, 'md'));
    expect(fs.readFileSync(md, 'utf8')).toContain(`- Peer: llama.cpp \\(`);
  });

  it('bad --report names and kinds are one-line errors before any work', async () => {
    const r = await cli('bench', '--backend', 'cpu', '--report', path.join(dir, 'x.txt'), '--no-record');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^quantscope: error: --report .*x\.txt: use a \.html, \.md or \.json file name\n$/);
    expect(r.out).toBe('');
    const store = path.join(dir, 'other');
    const v = buildRecord({
      kind: 'selftest',
      device: null,
      model: null,
      request: {},
      status: 'done',
      results: [],
      selftest: { rows: [] },
    });
    fs.mkdirSync(store);
    fs.writeFileSync(path.join(store, `${v.id}.json`), JSON.stringify(v));
    const k = await cli('records', v.id, '--records', store, '--report', path.join(dir, 'v.html'));
    expect(k.code).toBe(2);
    expect(k.err).toContain(`--report: record ${v.id} is a selftest record: it has no report`);
    expect(fs.existsSync(path.join(dir, 'v.html'))).toBe(false);
    const noId = await cli('records', '--records', store, '--report', path.join(dir, 'v.html'));
    expect(noId.err).toBe('quantscope: error: --report needs the id of a record\n');
  });
});
