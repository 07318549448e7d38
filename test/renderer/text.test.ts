// Small text the app writes: counts with their plural, the cpu's timing choice named as its setup
// names it, a bench chart axis whose ticks carry their unit, and where a checked pair's output came from.
import { describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { createAppStore, type AppStore } from '../../src-renderer/src/store';
import { RunSetup } from '../../src-renderer/src/components/RunSetup';
import { ResultsView } from '../../src-renderer/src/components/ResultsView';
import { ChartsView } from '../../src-renderer/src/components/ChartsView';
import { ResultDetailView } from '../../src-renderer/src/components/ResultDetail';
import { outputSource } from '../../src-renderer/src/lib/results';
import { timedChoices } from '../../src-renderer/src/lib/timing';
import { computeUnitsText, KEPT_FOR_APP_WHY } from '../../src-shared/devices';
import { timeTick } from '../../src-shared/bench-chart';
import { IDLE_RUN } from '../../src-renderer/src/lib/runState';
import type { RunRequest, TensorResult } from '../../src-shared/contract';
import { FakeApi } from './fakeApi';
import { renderWithStore, textOf } from './render';

async function store(): Promise<AppStore> {
  const s = createAppStore(new FakeApi(), { heartbeatMs: 0 });
  await s.getState().refreshDevices();
  await s.getState().openModel('/samples/tiny.gguf');
  return s;
}

const untimed = (backend: 'cpu' | 'cuda'): RunRequest => ({
  modelId: 'm',
  tensors: ['t'],
  batchSizes: [1],
  backend,
  deviceIndex: 0,
  seed: 1,
  timing: 'none',
  path: 'auto',
  compareUnfused: false,
  threshold: null,
});

function result(over: Partial<TensorResult> = {}): TensorResult {
  return {
    resultId: 'r:t:1',
    runId: 'r',
    tensor: 't',
    type: 'Q4_K',
    n: 4,
    k: 256,
    m: 1,
    backend: 'cpu',
    device: 'cpu:0 AMD EPYC',
    path: 'cpu-f32',
    status: 'pass',
    threshold: 1e-8,
    metrics: {
      nmse: 0,
      maxAbsErr: 0,
      maxRelErr: 0,
      nanMismatches: 0,
      infMismatches: 0,
      count: 4,
      worst: null,
    },
    timing: null,
    unfused: null,
    weightBytes: 576,
    gridAvailable: false,
    elapsedMs: 1,
    ...over,
  };
}

describe('small text', () => {
  it('a device with one worker thread says "1 worker thread"', async () => {
    expect(computeUnitsText('cpu', 1)).toBe('1 worker thread');
    expect(computeUnitsText('cpu', 15)).toBe('15 worker threads');
    expect(computeUnitsText('hip', 104)).toBe('104 CUs');
    expect(computeUnitsText('cuda', 132)).toBe('132 SMs');
    expect(computeUnitsText('cuda', 1)).toBe('1 SM');
    const s = await store();
    const cpu = s.getState().backends.find((b) => b.backend === 'cpu')!;
    s.setState({
      backends: s
        .getState()
        .backends.map((b) => (b === cpu ? { ...b, devices: [{ ...b.devices[0], computeUnits: 1 }] } : b)),
      config: { ...s.getState().config, backend: 'cpu', deviceIndex: cpu.devices[0].index },
    });
    const facts = textOf(renderWithStore(s, createElement(RunSetup)), 'device-facts')!;
    expect(facts).toContain('· 1 worker thread');
    expect(facts).not.toMatch(/threads/);
    expect(facts).not.toContain('kept for the app');
  });

  it("the app's cpu, one thread fewer than the CLI's, says why beside its count", async () => {
    const s = await store();
    const cpu = s.getState().backends.find((b) => b.backend === 'cpu')!;
    s.setState({
      backends: s
        .getState()
        .backends.map((b) =>
          b === cpu ? { ...b, devices: [{ ...b.devices[0], computeUnits: 1, threadsKeptForApp: 1 }] } : b,
        ),
      config: { ...s.getState().config, backend: 'cpu', deviceIndex: cpu.devices[0].index },
    });
    const html = renderWithStore(s, createElement(RunSetup));
    expect(textOf(html, 'device-facts')).toContain('· 1 worker thread (one core kept for the app)');
    // the hint on it says what that means for timings
    const threads = /<span data-testid="device-threads" title="([^"]*)">/.exec(html)!;
    expect(threads[1]).toBe(KEPT_FOR_APP_WHY);
    expect(KEPT_FOR_APP_WHY).toMatch(
      /one worker thread fewer than the command line .* timings from the app and the CLI differ/,
    );
  });

  it("an untimed cpu run's hints name the cpu's choice, Timed; a GPU's Hot or Cold", async () => {
    expect(timedChoices('cpu')).toBe('Timed');
    expect(timedChoices('hip')).toBe('Hot or Cold');
    const s = await store();
    const done = (backend: 'cpu' | 'cuda') =>
      s.setState({
        run: { ...IDLE_RUN, status: 'done', runId: 'r', request: untimed(backend), total: 1, done: 1 },
        results: [result({ backend })],
      });
    done('cpu');
    const hint = textOf(renderWithStore(s, createElement(ResultsView)), 'no-timing-hint')!;
    expect(hint).toBe('Timing was off (protocol "none"): choose Timed to measure time and GB/s.');
    const charts = textOf(renderWithStore(s, createElement(ChartsView)), 'charts-no-timing')!;
    expect(charts).toContain('Choose Timed in Run setup');
    done('cuda');
    expect(textOf(renderWithStore(s, createElement(ResultsView)), 'no-timing-hint')).toContain(
      'choose Hot or Cold',
    );
    // nothing run yet, the cpu chosen: the charts' empty state names its choice too
    s.setState({ run: IDLE_RUN, results: [], config: { ...s.getState().config, backend: 'cpu' } });
    expect(textOf(renderWithStore(s, createElement(ChartsView)), 'charts-empty')).toContain(
      'with timing Timed;',
    );
  });

  it("the bench chart's ticks carry their unit: the axis spans µs to seconds", () => {
    expect([10, 500, 1000, 20_000, 100_000, 1_000_000, 2_000_000].map(timeTick)).toEqual([
      '10 µs',
      '500 µs',
      '1 ms',
      '20 ms',
      '100 ms',
      '1 s',
      '2 s',
    ]);
    expect(timeTick(0.5)).toBe('0.5 µs');
  });

  it('a pair judged by check names its output file, not "cpu · output y.f32" as a device', async () => {
    const pair = result({ path: 'custom', device: 'output y_bad.f32', pathDetail: 'input x.f32' });
    expect(outputSource(pair)).toEqual({ label: 'Output', text: 'y_bad.f32, made elsewhere' });
    expect(outputSource(result())).toEqual({ label: 'Device', text: 'cpu · cpu:0 AMD EPYC' });
    // a user kernel's run (path custom too) is on its device
    expect(outputSource(result({ path: 'custom', backend: 'hip', device: 'hip:0 MI300X' })).label).toBe(
      'Device',
    );
    const s = await store();
    const html = renderWithStore(s, createElement(ResultDetailView, { r: pair }));
    expect(textOf(html, 'detail-source')).toBe('Outputy_bad.f32, made elsewhere');
    expect(html).not.toContain('cpu · output');
  });
});
