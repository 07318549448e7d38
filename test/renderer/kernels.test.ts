// The renderer's side of users' kernels, the selftest panel, check pairs and the weight map: the pure
// geometry of the map (columns to elements, block and sub-block lines, zoom), the selftest state folded
// from events, the run request the setup builds, and the panels rendered from a store over the fake.
import { describe, expect, it } from 'vitest';
import { createAppStore, buildRunRequest, type AppStore } from '../../src-renderer/src/store';
import { elementAt, locate, mapLines, probedCount, zoomAround } from '../../src-renderer/src/lib/weightmap';
import {
  applySelftestEvent,
  groupSelftest,
  IDLE_SELFTEST,
  type SelftestState,
} from '../../src-renderer/src/lib/selftest';
import type { RunEvent, SelftestRowData } from '../../src-shared/contract';
import { FakeApi } from './fakeApi';

function makeStore(api: FakeApi): AppStore {
  return createAppStore(api, { schedule: (cb) => queueMicrotask(cb) });
}

async function until(cond: () => boolean, ms = 5000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const probe = {
  n: 64,
  blockElems: 256,
  subElems: 32,
  spans: [
    [0, 256],
    [768, 1024],
  ] as [number, number][],
};

describe('weight map geometry', () => {
  it('maps probed columns back to elements across the gap', () => {
    expect(probedCount(probe.spans)).toBe(512);
    expect(elementAt(probe.spans, 0)).toBe(0);
    expect(elementAt(probe.spans, 255)).toBe(255);
    expect(elementAt(probe.spans, 256)).toBe(768);
    expect(elementAt(probe.spans, 511)).toBe(1023);
    expect(elementAt(probe.spans, 512)).toBe(-1);
    expect(locate(probe, 5, 300)).toEqual({ row: 5, element: 812, block: 3, subBlock: 1, position: 44 });
  });

  it('draws block lines and the gap zoomed out, sub-block lines only zoomed into a block', () => {
    // the whole probe at one element per cell: block 0 | gap | block 3
    const whole = mapLines(probe, 0, 1, 512);
    expect(whole).toContainEqual({ at: 256, kind: 'gap' });
    expect(whole.filter((l) => l.kind === 'sub').length).toBe(14);
    // 8 elements per cell: a sub-block is 4 cells, still visible; 64 per cell: only blocks and the gap
    expect(mapLines(probe, 0, 64, 8)).toEqual([{ at: 4, kind: 'gap' }]);
    const contiguous = { ...probe, spans: [[0, 2048]] as [number, number][] };
    expect(mapLines(contiguous, 0, 64, 32).map((l) => l.kind)).toEqual([
      'block',
      'block',
      'block',
      'block',
      'block',
      'block',
      'block',
    ]);
    expect(mapLines(contiguous, 0, 64, 32).some((l) => l.kind === 'sub')).toBe(false);
    expect(mapLines(contiguous, 256, 1, 256).map((l) => l.at)).toEqual([32, 64, 96, 128, 160, 192, 224]);
  });

  it('zooms to the clicked block with one block either side', () => {
    expect(zoomAround({ ...probe, spans: [[0, 2048]] }, 40, 600)).toEqual({
      rowStart: 24,
      rowEnd: 57,
      colStart: 256,
      colEnd: 1024,
    });
    expect(zoomAround(probe, 0, 10)).toEqual({ rowStart: 0, rowEnd: 17, colStart: 0, colEnd: 512 });
  });
});

const row = (format: string, path: string, result: 'pass' | 'fail', nmse: number): SelftestRowData => ({
  format,
  n: 67,
  k: 96,
  m: 1,
  weights: 'random',
  requested: 'auto',
  path,
  nmse,
  threshold: 1e-8,
  result,
  detail: '',
  ms: 10,
});

describe('selftest state', () => {
  it('adopts the run named by its first event while starting and folds rows and the end', () => {
    let s: SelftestState = { ...IDLE_SELFTEST, status: 'starting' };
    const evs: RunEvent[] = [
      {
        type: 'selftest-started',
        runId: 's1',
        total: 3,
        device: 'cpu:0 x',
        request: { backend: 'cpu', deviceIndex: 0, quick: true },
      },
      { type: 'selftest-row', runId: 's1', index: 0, total: 3, row: row('Q4_0', 'cpu-f32', 'pass', 1e-14) },
      { type: 'selftest-row', runId: 'other', index: 0, total: 3, row: row('Q4_0', 'cpu-f32', 'fail', 1) },
      { type: 'selftest-row', runId: 's1', index: 1, total: 3, row: row('Q4_0', 'cpu-f32', 'fail', 3e-8) },
      { type: 'selftest-finished', runId: 's1', status: 'cancelled', passed: 1, failed: 1 },
    ];
    for (const ev of evs) s = applySelftestEvent(s, ev);
    expect(s).toMatchObject({
      runId: 's1',
      status: 'cancelled',
      device: 'cpu:0 x',
      total: 3,
      passed: 1,
      failed: 1,
    });
    expect(s.rows.length).toBe(2);
  });

  it('summarises per format and path: counts, worst NMSE and its ratio to the bar', () => {
    const g = groupSelftest([
      row('Q4_0', 'fused-small-q8', 'pass', 1e-12),
      row('Q4_0', 'fused-small-q8', 'fail', 4e-8),
      row('Q4_0', 'fused-small-f32', 'pass', 1e-14),
      row('Q4_K', 'fused-small-q8', 'pass', 2e-12),
    ]);
    expect(g.map((x) => [x.format, x.path, x.cases, x.passed, x.failed])).toEqual([
      ['Q4_0', 'fused-small-q8', 2, 1, 1],
      ['Q4_0', 'fused-small-f32', 1, 1, 0],
      ['Q4_K', 'fused-small-q8', 1, 1, 0],
    ]);
    expect(g[0].worstNmse).toBe(4e-8);
    expect(g[0].worstRatio).toBeCloseTo(4);
  });
});

describe('run setup: activations, arithmetic, user kernels', () => {
  it('sends the activations and arithmetic chosen; user kernels only to GPU backends, trimmed', async () => {
    const store = makeStore(new FakeApi());
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    store.getState().setSelected(new Set(['blk.0.attn_q.weight']));
    store.getState().setConfig({
      activations: 'outliers',
      arithmetic: 'q8_1',
      userKernels: [
        { format: 'Q4_K', path: ' /models/k.cubin ', grid: 'n/8', arithmetic: 'q8_1' },
        { format: 'Q6_K', path: '' },
      ],
    });
    const cpu = buildRunRequest(store.getState());
    expect(cpu).toMatchObject({ activations: 'outliers', arithmetic: 'q8_1' });
    expect('userKernels' in cpu).toBe(false);
    // as on a machine with a CUDA GPU
    store.setState({
      backends: store.getState().backends.map((b) => (b.backend === 'cuda' ? { ...b, available: true } : b)),
      config: { ...store.getState().config, backend: 'cuda' },
    });
    const gpu = buildRunRequest(store.getState());
    expect('error' in gpu ? gpu.error : gpu.userKernels).toEqual([
      { format: 'Q4_K', path: '/models/k.cubin', grid: 'n/8', arithmetic: 'q8_1' },
    ]);
    store.getState().setConfig({ arithmetic: '', activations: 'gaussian' });
    const plain = buildRunRequest(store.getState());
    expect(plain).toMatchObject({ activations: 'gaussian' });
    expect('arithmetic' in plain).toBe(false);
  });
});

describe('rendered panels', () => {
  async function render() {
    const React = await import('react');
    const { renderToString } = await import('react-dom/server');
    const { StoreProvider } = await import('../../src-renderer/src/context');
    return (store: AppStore, el: React.ReactElement) => {
      store.getInitialState = () => store.getState();
      return renderToString(React.createElement(StoreProvider, { store, children: el })).replace(
        /<!-- -->/g,
        '',
      );
    };
  }

  it('the run setup offers the activations with the seed, the arithmetic and user kernels', async () => {
    const html = await render();
    const React = await import('react');
    const { RunSetup } = await import('../../src-renderer/src/components/RunSetup');
    const store = makeStore(new FakeApi());
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    store.getState().setConfig({ activations: 'outliers', seed: 11 });
    const out = html(store, React.createElement(RunSetup));
    for (const id of [
      'activations-gaussian',
      'activations-outliers',
      'activations-outliers100',
      'activations-embeddings',
      'arithmetic',
      'user-kernels',
    ])
      expect(out).toContain(`data-testid="${id}"`);
    expect(out).toMatch(/data-testid="activations-hint"[^>]*>[^<]*twenty times larger[^<]*· seed 11/);
    expect(out).toContain('<option value="Q4_K">Q4_K</option>');
  });

  it('the Kernels tab: the selftest panel, and a check pair asks for a model first', async () => {
    const html = await render();
    const React = await import('react');
    const { KernelsView } = await import('../../src-renderer/src/components/KernelsView');
    const store = makeStore(new FakeApi());
    await store.getState().init();
    const out = html(store, React.createElement(KernelsView));
    expect(out).toContain('data-testid="selftest-start"');
    expect(out).toContain('data-testid="check-no-model"');
  });

  it('a failed identity pair shows the diagnosis sentence and the weight map; an ordinary one says output-space only', async () => {
    const html = await render();
    const React = await import('react');
    const { ResultDetailView } = await import('../../src-renderer/src/components/ResultDetail');
    const api = new FakeApi();
    const store = makeStore(api);
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    const modelId = store.getState().model!.modelId;
    const bad = await api.checkPair({
      modelId,
      tensor: 'blk.0.attn_q.weight',
      input: 'identity',
      output: '/models/wrong.f32',
    });
    const out = html(store, React.createElement(ResultDetailView, { r: bad }));
    expect(out).toContain('data-testid="weight-map"');
    expect(out).toMatch(/data-testid="weight-map-sentence"[^>]*>the low and high nibbles/);
    expect(out).toContain('data-testid="heatmap"');
    const plain = await api.checkPair({
      modelId,
      tensor: 'blk.0.attn_q.weight',
      input: '/models/x.f32',
      output: '/models/wrong.f32',
      m: 2,
    });
    const out2 = html(store, React.createElement(ResultDetailView, { r: plain }));
    expect(out2).not.toContain('data-testid="weight-map"');
    expect(out2).toMatch(/data-testid="weight-map-none"[^>]*>Only output-space evidence/);
  });

  it('a weight map with weight rows left out counts them under the map; one without says nothing of it', async () => {
    const html = await render();
    const React = await import('react');
    const { WeightMap } = await import('../../src-renderer/src/components/WeightMap');
    const api = new FakeApi();
    const store = makeStore(api);
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    const bad = await api.checkPair({
      modelId: store.getState().model!.modelId,
      tensor: 'blk.0.attn_q.weight',
      input: 'identity',
      output: '/models/wrong.f32',
    });
    const info = { ...bad.weightMap!, rowsLeftOut: 3 };
    // drawn before its grid arrives (and in History, where there is none): the count alone
    const out = html(store, React.createElement(WeightMap, { result: bad, info, api }));
    expect(out).toMatch(
      new RegExp(`data-testid="weight-map-not-compared"[^>]*>3 of ${info.n} weight rows not compared</span>`),
    );
    expect(out).toContain('non-finite block scales: their outputs were left out of the verdict');
    const none = html(store, React.createElement(WeightMap, { result: bad, info: bad.weightMap!, api }));
    expect(none).not.toContain('weight-map-not-compared');
  });

  it("a record's weight map is drawn without zoom: no whole-tensor button, no click to zoom", async () => {
    const html = await render();
    const React = await import('react');
    const { WeightMap } = await import('../../src-renderer/src/components/WeightMap');
    const api = new FakeApi();
    const store = makeStore(api);
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    const bad = await api.checkPair({
      modelId: store.getState().model!.modelId,
      tensor: 'blk.0.attn_q.weight',
      input: 'identity',
      output: '/models/wrong.f32',
    });
    const live = html(store, React.createElement(WeightMap, { result: bad, info: bad.weightMap!, api }));
    expect(live).toContain('data-testid="weight-map-reset"');
    expect(live).toContain('(click to zoom into a block)');
    const h = { m: 1, n: 1, rows: 1, cols: 1, cellRows: 1, cellCols: 1, values: [0], min: 0, max: 0 };
    const info = { ...bad.weightMap!, rowsLeftOut: 2, grid: { abs: h, rel: h } };
    const saved = html(store, React.createElement(WeightMap, { result: bad, info, api }));
    expect(saved).toContain('data-testid="weight-map-canvas"');
    expect(saved).not.toContain('data-testid="weight-map-reset"');
    expect(saved).not.toContain('click to zoom');
    expect(saved).toMatch(
      new RegExp(`data-testid="weight-map-not-compared"[^>]*>2 of ${info.n} weight rows not compared</span>`),
    );
  });

  it('the fake selftest streams to a finish the panel state understands', async () => {
    const api = new FakeApi({ jobMs: 1 });
    let s: SelftestState = { ...IDLE_SELFTEST, status: 'starting' };
    const off = api.onRunEvent((ev) => (s = applySelftestEvent(s, ev)));
    await api.startSelftest({ backend: 'cpu', deviceIndex: 0, quick: true, formats: ['Q4_0'] });
    await until(() => s.status === 'done');
    off();
    expect([s.rows.length, s.passed, s.failed]).toEqual([2, 2, 0]);
  });
});
