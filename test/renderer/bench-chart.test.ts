// A bench record's chart (History and the bench report): our median time per format and batch size
// beside the peer's figure for the same case, the peer named in the legend and its source in the
// caption; no peer series and no peer label where the record holds no peer figures.
import { describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { PEER_SERIES, benchChart, peerSourceLine, vsPeer } from '../../src-shared/bench-chart';
import type { BenchRecordData, BenchRecordRow } from '../../src-shared/contract';
import { BenchChart } from '../../src-renderer/src/components/BenchChart';

function row(
  format: string,
  m: number,
  protocol: string,
  medianUs: number,
  peerUs: number | null,
): BenchRecordRow {
  return {
    format,
    n: 4096,
    k: 14336,
    m,
    protocol,
    requested: 'auto',
    path: 'fused-small-q8',
    medianUs,
    iqrUs: 0.1,
    spread: 0.02,
    samples: 30,
    gbps: 2000,
    tflops: 1,
    pctPeak: 40,
    pctCopy: 50,
    peerUs,
    check: { status: 'pass', nmse: 1e-15 },
  };
}

const PEER = {
  label: 'llama.cpp (perf.sql, NVIDIA H200)',
  source: '--peer perf.sql',
  device: 'NVIDIA H200',
  commit: 'd99724f',
  measuredAt: '2026-12-03T10:00:00Z',
};

const WITH_PEER: BenchRecordData = {
  shape: { n: 4096, k: 14336 },
  protocols: ['hot', 'cold'],
  peer: PEER,
  rows: [
    row('Q4_K', 512, 'hot', 321, 358.9),
    row('Q4_K', 1, 'hot', 10.1, 16.36),
    row('Q4_K', 1, 'cold', 14.3, 16.36),
    row('Q8_0', 1, 'hot', 18, null), // the peer's file has no figure for this case
  ],
};

const WITHOUT_PEER: BenchRecordData = {
  ...WITH_PEER,
  peer: null,
  rows: WITH_PEER.rows.map((r) => ({ ...r, peerUs: null })),
};

describe('bench chart data', () => {
  it("our series per protocol, the peer's figure per (format, m), and a log axis over both", () => {
    const c = benchChart(WITH_PEER);
    expect(c.series.map((s) => s.label)).toEqual(['QuantScope hot', 'QuantScope cold', PEER.label]);
    expect(c.series.map((s) => s.peer)).toEqual([false, false, true]);
    expect(c.peer).toEqual(PEER);
    // the record's format order, m ascending
    expect(c.groups.map((g) => g.label)).toEqual(['Q4_K m=1', 'Q4_K m=512', 'Q8_0 m=1']);
    expect(c.groups[0].values).toEqual({ s0: 10.1, s1: 14.3, [PEER_SERIES]: 16.36 });
    expect(c.groups[1].values).toEqual({ s0: 321, s1: null, [PEER_SERIES]: 358.9 });
    expect(c.groups[2].values).toEqual({ s0: 18, s1: null, [PEER_SERIES]: null });
    expect(c.axis).toEqual({ domain: [10, 1000], ticks: [10, 100, 1000] });
  });

  it('no peer series and no peer label without peer figures', () => {
    const c = benchChart(WITHOUT_PEER);
    expect(c.peer).toBeNull();
    expect(c.series.map((s) => s.label)).toEqual(['QuantScope hot', 'QuantScope cold']);
    expect(c.groups.every((g) => !(PEER_SERIES in g.values))).toBe(true);
    // a named peer with no figure for these shapes draws nothing either
    expect(benchChart({ ...WITHOUT_PEER, peer: PEER }).peer).toBeNull();
    // figures whose source the record does not name are not drawn under any label
    expect(benchChart({ ...WITH_PEER, peer: null }).series.some((s) => s.peer)).toBe(false);
    expect(benchChart(undefined)).toMatchObject({ series: [], groups: [], peer: null });
  });

  it("several devices: a series per slot; the peer's figures are the first device's", () => {
    const c = benchChart({
      peer: PEER,
      rows: [
        { ...row('Q4_0', 1, 'hot', 10, 14.37), slot: 1 },
        { ...row('Q4_0', 1, 'hot', 11, 99), slot: 2 },
      ],
    });
    expect(c.series.map((s) => s.label)).toEqual([
      'slot 1: QuantScope hot',
      'slot 2: QuantScope hot',
      PEER.label,
    ]);
    expect(c.groups[0].values[PEER_SERIES]).toBe(14.37);
  });

  it('several paths: the path asked for names the series; one decade gets 2 and 5 ticks', () => {
    const c = benchChart({
      rows: [row('Q4_0', 1, 'hot', 12, null), { ...row('Q4_0', 1, 'hot', 15, null), requested: 'int8' }],
    });
    expect(c.series.map((s) => s.label)).toEqual([
      'QuantScope hot (--path auto)',
      'QuantScope hot (--path int8)',
    ]);
    expect(c.axis).toEqual({ domain: [10, 100], ticks: [10, 20, 50, 100] });
  });

  it("the peer's source line: who, device, build, when, and from where", () => {
    expect(peerSourceLine(PEER)).toBe(
      'llama.cpp (perf.sql, NVIDIA H200) · device NVIDIA H200 · build d99724f · measured 2026-12-03T10:00:00Z · source: --peer perf.sql',
    );
    expect(
      peerSourceLine({
        label: 'llama.cpp (ggml 2026-08, H200)',
        source: 'built-in table (peers.ts)',
        device: 'NVIDIA H200',
      }),
    ).toBe('llama.cpp (ggml 2026-08, H200) · device NVIDIA H200 · source: built-in table (peers.ts)');
    expect(peerSourceLine({ ...PEER, device: null, commit: null, measuredAt: null })).toBe(
      'llama.cpp (perf.sql, NVIDIA H200) · device not named in the source · source: --peer perf.sql',
    );
    expect(vsPeer({ medianUs: 10, peerUs: 15 })).toBe(1.5);
    expect(vsPeer({ medianUs: 10, peerUs: null })).toBeNull();
  });
});

describe('the bench chart in History', () => {
  const html = (bench: BenchRecordData) => renderToStaticMarkup(createElement(BenchChart, { bench }));

  it('with peer figures: the peer named in the legend beside ours, its source in the caption', () => {
    const out = html(WITH_PEER);
    expect(out).toContain('data-testid="bench-chart"');
    const legend = /data-testid="bench-chart-legend"[^>]*>(.*?)<\/div>/.exec(out)?.[1] ?? '';
    expect(legend).toContain('QuantScope hot');
    expect(legend).toContain('QuantScope cold');
    expect(legend).toMatch(/data-testid="bench-chart-peer".*llama\.cpp \(perf\.sql, NVIDIA H200\)/);
    expect(out).toContain(
      'data-testid="bench-chart-peer-source">Peer: llama.cpp (perf.sql, NVIDIA H200) · device NVIDIA H200 · build d99724f · measured 2026-12-03T10:00:00Z · source: --peer perf.sql',
    );
    expect(out).not.toContain('bench-chart-no-peer');
  });

  it('without peer figures: no peer series, no peer label, and the caption says why', () => {
    const out = html(WITHOUT_PEER);
    expect(out).toContain('data-testid="bench-chart-ours"');
    expect(out).not.toContain('data-testid="bench-chart-peer"');
    expect(out).not.toContain('bench-chart-peer-source');
    expect(out).not.toContain('llama.cpp');
    expect(out).toContain(
      'No peer times in this record: no --peer file, and no built-in figures for this GPU.',
    );
    const named = html({ ...WITHOUT_PEER, peer: PEER });
    expect(named).not.toContain('data-testid="bench-chart-peer"');
    expect(named).toContain('No peer times for these shapes (llama.cpp (perf.sql, NVIDIA H200) has none).');
    expect(html({ rows: [] })).toBe('');
  });
});
