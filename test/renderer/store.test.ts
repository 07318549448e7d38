import { describe, it, expect } from 'vitest';
import {
  createAppStore,
  buildRunRequest,
  errorText,
  parseBatchSizes,
  type AppStore,
} from '../../src-renderer/src/store';
import { FakeApi } from './fakeApi';

/** A store whose event batches are delivered immediately (no animation frames in Node). */
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

describe('app store with a fake engine', () => {
  it('initialises: app info, files, devices; picks the available backend', async () => {
    const store = makeStore(new FakeApi());
    await store.getState().init();
    const s = store.getState();
    expect(s.appInfo?.mode).toBe('browser');
    expect(s.files.map((f) => f.name)).toContain('tiny.gguf');
    expect(s.backends.find((b) => b.backend === 'cuda')?.available).toBe(false);
    expect(s.config.backend).toBe('cpu');
  });

  it('shows an actionable open error and keeps working afterwards', async () => {
    const store = makeStore(new FakeApi());
    await store.getState().init();
    await store.getState().openModel('/models/broken.gguf');
    expect(store.getState().openError).toBe('broken.gguf: bad magic 0x00000000 (expected "GGUF")');
    expect(store.getState().model).toBeNull();
    // A message that does not name the file gets the name in front.
    const api2 = new FakeApi();
    api2.openModel = async () => {
      throw new Error('permission denied');
    };
    const store2 = makeStore(api2);
    await store2.getState().openModel('/models/x.gguf');
    expect(store2.getState().openError).toBe('Could not open x.gguf: permission denied');
    await store.getState().openModel('/samples/tiny.gguf');
    expect(store.getState().model?.fileName).toBe('tiny.gguf');
    expect(store.getState().openError).toBeNull();
  });

  it('refuses to run without a selection, with a message', async () => {
    const store = makeStore(new FakeApi());
    await store.getState().init();
    await store.getState().startRun();
    expect(store.getState().configError).toMatch(/Open a model/);
    await store.getState().openModel('/samples/tiny.gguf');
    await store.getState().startRun();
    expect(store.getState().configError).toMatch(/Select at least one/);
    expect(store.getState().run.status).toBe('idle');
  });

  it('runs, streams every result, and finishes', async () => {
    const api = new FakeApi({ jobMs: 1, errorTensors: ['blk.0.attn_k.weight'] });
    const store = makeStore(api);
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    const names = store
      .getState()
      .model!.tensors.filter((t) => t.supported && t.layer === 0)
      .map((t) => t.name);
    store.getState().setSelected(new Set(names));
    store.getState().setConfig({ batchSizes: [1, 4] });
    await store.getState().startRun();
    await until(() => store.getState().run.status === 'done');
    const s = store.getState();
    expect(s.results).toHaveLength(names.length * 2);
    expect(s.run.summary).toEqual({ passed: names.length * 2 - 2, failed: 0, errors: 2 });
    expect(s.results.find((r) => r.status === 'error')?.error).toMatch(/out of memory/);
    // nothing chosen for the user: the results view shows its table's first row (shownResult)
    expect(s.selectedResultId).toBeNull();
    expect(s.view).toBe('results');
  });

  it('cancels midway and a second run delivers all of its results, none of the first', async () => {
    const api = new FakeApi({ jobMs: 15 });
    const store = makeStore(api);
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    const names = store
      .getState()
      .model!.tensors.filter((t) => t.supported)
      .map((t) => t.name);
    store.getState().setSelected(new Set(names));
    store.getState().setConfig({ batchSizes: [1, 2] });
    await store.getState().startRun();
    const first = store.getState().run.runId;
    await until(() => store.getState().results.length >= 2);
    await store.getState().cancelRun();
    await until(() => store.getState().run.status === 'cancelled');
    expect(store.getState().results.length).toBeLessThan(names.length * 2);
    expect(api.calls).toContain(`cancelRun:${first}`);

    api.opts.jobMs = 1;
    await store.getState().startRun();
    await until(() => store.getState().run.status === 'done');
    const s = store.getState();
    expect(s.run.runId).not.toBe(first);
    expect(s.results).toHaveLength(names.length * 2);
    expect(s.results.every((r) => r.runId === s.run.runId)).toBe(true);
  });

  it('cancel before the run id is known still cancels the run', async () => {
    const api = new FakeApi({ jobMs: 20 });
    const store = makeStore(api);
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    store.getState().setSelected(new Set(['blk.0.attn_q.weight', 'blk.1.attn_q.weight']));
    store.getState().setConfig({ batchSizes: [1, 2, 3] });
    const p = store.getState().startRun();
    await store.getState().cancelRun();
    await p;
    await until(() => store.getState().run.status === 'cancelled');
    expect(api.calls.some((c) => c.startsWith('cancelRun:'))).toBe(true);
  });

  it('builds requests: sorted batches, threshold parse, unavailable backend refused', async () => {
    const store = makeStore(new FakeApi());
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    store.getState().setSelected(new Set(['blk.0.attn_q.weight', 'blk.0.attn_norm.weight']));
    store.getState().setConfig({ batchSizes: [8, 1], threshold: '1e-6' });
    const req = buildRunRequest(store.getState());
    expect(req).toMatchObject({ tensors: ['blk.0.attn_q.weight'], batchSizes: [1, 8], threshold: 1e-6 });
    store.getState().setConfig({ threshold: 'abc' });
    expect(buildRunRequest(store.getState())).toEqual({
      error: 'Threshold "abc" must be a positive number such as 1e-6.',
    });
    store.getState().setConfig({ threshold: '', backend: 'cuda' });
    expect(buildRunRequest(store.getState())).toEqual({
      error: 'The cuda backend is unavailable: libcuda.so.1 not found.',
    });
  });

  it('"all devices" sends every device of the backend; one device sends none', async () => {
    const store = makeStore(new FakeApi({ gpus: 3 }));
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    store.getState().setSelected(new Set(['blk.0.attn_q.weight']));
    store.getState().setConfig({ backend: 'hip', deviceIndex: 1, allDevices: false });
    const one = buildRunRequest(store.getState());
    expect(one).toMatchObject({ backend: 'hip', deviceIndex: 1 });
    expect(one).not.toHaveProperty('devices');
    store.getState().setConfig({ allDevices: true });
    expect(buildRunRequest(store.getState())).toMatchObject({ devices: [0, 1, 2] });
  });

  it('exports a report of the latest run', async () => {
    const api = new FakeApi({ jobMs: 1 });
    const store = makeStore(api);
    await store.getState().init();
    expect(await store.getState().exportReport('md')).toBeNull();
    expect(store.getState().notice?.kind).toBe('error');
    await store.getState().openModel('/samples/tiny.gguf');
    store.getState().setSelected(new Set(['blk.0.attn_q.weight']));
    await store.getState().startRun();
    await until(() => store.getState().run.status === 'done');
    const rep = await store.getState().exportReport('md');
    expect(rep?.fileName).toMatch(/\.md$/);
  });
});

describe('helpers', () => {
  it('turns thrown values into one line, without IPC wrapping', () => {
    expect(errorText(new Error("Error invoking remote method 'openModel': Error: bad magic\nstack"))).toBe(
      'bad magic',
    );
    expect(errorText({ message: 'x' })).toBe('x');
    expect(errorText('plain')).toBe('plain');
  });
  it('parses custom batch sizes', () => {
    expect(parseBatchSizes('7, 32 1024')).toEqual({ sizes: [7, 32, 1024] });
    expect(parseBatchSizes('0')).toHaveProperty('error');
    expect(parseBatchSizes('2.5')).toHaveProperty('error');
  });
});

describe('opening through the native dialog', () => {
  it('browser (no dialog): shows the in-app picker; electron, dialog cancelled: nothing', async () => {
    const api = new FakeApi();
    const store = makeStore(api);
    await store.getState().init();
    await store.getState().pickAndOpen();
    expect(store.getState().pickerOpen).toBe(true);

    const eapi = new FakeApi();
    eapi.appInfo = async () => ({ version: 'x', mode: 'electron', platform: 'linux' });
    const estore = makeStore(eapi);
    await estore.getState().init();
    await estore.getState().pickAndOpen();
    expect(estore.getState().pickerOpen).toBe(false);
    eapi.pickModelFile = async () => '/samples/tiny.gguf';
    await estore.getState().pickAndOpen();
    expect(estore.getState().model?.fileName).toBe('tiny.gguf');
  });
});

describe('server-side rendering smoke test', () => {
  it('renders the main views from a store with a model and results, without throwing', async () => {
    const React = await import('react');
    const { renderToString } = await import('react-dom/server');
    const { StoreProvider } = await import('../../src-renderer/src/context');
    const { ModelView } = await import('../../src-renderer/src/components/ModelView');
    const { RunSetup } = await import('../../src-renderer/src/components/RunSetup');
    const { ResultsView } = await import('../../src-renderer/src/components/ResultsView');
    const { ChartsView } = await import('../../src-renderer/src/components/ChartsView');
    const { RunProgress } = await import('../../src-renderer/src/components/RunProgress');
    const api = new FakeApi({ jobMs: 1, failTensors: ['blk.0.attn_q.weight'] });
    const store = makeStore(api);
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    store.getState().setSelected(new Set(['blk.0.attn_q.weight', 'blk.0.attn_k.weight']));
    await store.getState().startRun();
    await until(() => store.getState().run.status === 'done');
    // On the server zustand renders getInitialState(): point it at the current state.
    store.getInitialState = () => store.getState();
    const html = (c: React.FunctionComponent) =>
      renderToString(React.createElement(StoreProvider, { store, children: React.createElement(c) })).replace(
        /<!-- -->/g,
        '',
      );
    expect(html(ModelView)).toContain('data-testid="quant-mix"');
    expect(html(RunSetup)).toContain('CUDA unavailable: libcuda.so.1 not found');
    const results = html(ResultsView);
    expect(results).toContain('data-testid="select-failing"');
    expect(results).toContain('data-testid="result-detail"');
    expect(html(ChartsView)).toContain('data-testid="chart-bandwidth"');
    expect(html(RunProgress)).toContain('2 / 2');
  });
});
