import { describe, it, expect } from 'vitest';
import { nameMatcher } from '../../src-renderer/src/lib/nameMatch';
import { filterTensors, EMPTY_FILTER } from '../../src-renderer/src/lib/tensors';
import { plannedText, sortResults } from '../../src-renderer/src/lib/results';
import {
  bandwidthShare,
  protocolLabel,
  shareHeader,
  spreadWarning,
  SPREAD_WARN,
} from '../../src-renderer/src/lib/timing';
import { buildRunRequest, createAppStore } from '../../src-renderer/src/store';
import { byteUnit, niceTicks, rotatedLabelHeight, rotatedLabelLeft } from '../../src-renderer/src/lib/charts';
import { errorHistogram } from '../../src-renderer/src/lib/colormap';
import { fmtRowsCols } from '../../src-renderer/src/lib/format';
import { FakeApi, fakeModel } from './fakeApi';
import type { TensorResult, TimingSummary } from '../../src-shared/contract';

const NAMES = [
  'token_embd.weight',
  'blk.0.attn_q.weight',
  'blk.0.ffn_down.weight',
  'blk.0.ffn_up.weight',
  'blk.12.ffn_down.weight',
  'output.weight',
];
const pick = (spec: string) => NAMES.filter(nameMatcher(spec) ?? (() => true));

describe('tensor name filter', () => {
  it('matches comma lists of substrings (the placeholder finds its tensors)', () => {
    expect(pick('ffn_down, attn_q')).toEqual([
      'blk.0.attn_q.weight',
      'blk.0.ffn_down.weight',
      'blk.12.ffn_down.weight',
    ]);
  });
  it('matches the CLI --tensors globs over the whole name', () => {
    expect(pick('blk.*.ffn_*')).toEqual([
      'blk.0.ffn_down.weight',
      'blk.0.ffn_up.weight',
      'blk.12.ffn_down.weight',
    ]);
    expect(pick('blk.?.ffn_down.weight')).toEqual(['blk.0.ffn_down.weight']);
    // A glob is anchored: "ffn_*" alone matches no full name, unlike the substring "ffn_".
    expect(pick('ffn_*')).toEqual([]);
    expect(pick('output.weight,token_*')).toEqual(['token_embd.weight', 'output.weight']);
  });
  it('keeps space-separated words as "all must match", ignores case and empty parts', () => {
    expect(pick('ffn down')).toEqual(['blk.0.ffn_down.weight', 'blk.12.ffn_down.weight']);
    expect(pick('BLK.12')).toEqual(['blk.12.ffn_down.weight']);
    expect(nameMatcher(' , ,')).toBeNull();
    expect(pick('a.b(c')).toEqual([]);
  });
  it('is what the tensor table filters with', () => {
    const model = fakeModel(2);
    const f = filterTensors(model.tensors, { ...EMPTY_FILTER, text: 'blk.*.ffn_down.*' });
    expect(f.length).toBe(2);
    expect(f.every((t) => /^blk\.\d\.ffn_down\./.test(t.name))).toBe(true);
  });
});

function timing(over: Partial<TimingSummary> = {}): TimingSummary {
  return {
    protocol: 'hot',
    medianUs: 10,
    minUs: 9,
    maxUs: 12,
    spread: 0.02,
    samples: 20,
    weightCopies: 1,
    gbps: 100,
    tflops: 1,
    pctPeak: null,
    pctCopy: null,
    ...over,
  };
}

describe('timing labels', () => {
  it('names the cpu protocol as one protocol and the GPU ones as measured', () => {
    expect(protocolLabel(timing({ protocol: 'cold', weightCopies: 4 }), 'cpu')).toMatch(/^cpu: same weights/);
    expect(protocolLabel(timing({ protocol: 'cold', weightCopies: 4 }), 'cuda')).toBe(
      'cold: 4 weight copies rotated',
    );
    expect(protocolLabel(timing(), 'hip')).toBe('hot: one weight buffer');
  });
  it('warns above a 5 % spread, naming the spread and the sample count', () => {
    expect(spreadWarning(timing({ spread: SPREAD_WARN }))).toBeNull();
    expect(spreadWarning(timing({ spread: 0.12, samples: 3 }))).toMatch(
      /^spread 12 % > 5\.0 % over 3 samples/,
    );
  });
  it('shows "% of peak" only against a datasheet peak, else "% of copy"', () => {
    expect(bandwidthShare(timing({ pctPeak: 80, pctCopy: 90 }))).toEqual({ pct: 80, of: 'peak' });
    expect(bandwidthShare(timing({ pctCopy: 90 }))).toEqual({ pct: 90, of: 'copy' });
    expect(bandwidthShare(timing())).toBeNull();
    const r = (t: TimingSummary) => ({ timing: t }) as TensorResult;
    expect(shareHeader([r(timing({ pctCopy: 9 }))])).toBe('% of copy');
    expect(shareHeader([r(timing({ pctPeak: 9 }))])).toBe('% of peak');
    expect(shareHeader([r(timing({ pctPeak: 9 })), r(timing({ pctCopy: 9 }))])).toBe('% of peak/copy');
  });
});

describe('results order and counts', () => {
  it('sorts worst first by default: errors, failures, passes, each by NMSE descending', () => {
    const res = (id: string, status: TensorResult['status'], nmse: number | null) =>
      ({ resultId: id, status, metrics: nmse === null ? null : { nmse } }) as TensorResult;
    const list = [
      res('p1', 'pass', 1e-12),
      res('f1', 'fail', 1e-5),
      res('p2', 'pass', 1e-9),
      res('e', 'error', null),
      res('f2', 'fail', 1e-3),
    ];
    const store = createAppStore(new FakeApi(), { heartbeatMs: 0 });
    const sorted = sortResults(list, store.getState().resultSort).map((r) => r.resultId);
    expect(sorted).toEqual(['e', 'f2', 'f1', 'p2', 'p1']);
  });
  it('says how far a stopped run got against its plan', () => {
    expect(plannedText(9, 16)).toBe('9 of the 16 planned');
  });
});

describe('run request', () => {
  it('sends repeats only when set, and the cpu one protocol for "cold"', async () => {
    const store = createAppStore(new FakeApi(), { heartbeatMs: 0 });
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    const t = store.getState().model!.tensors.find((x) => x.supported)!.name;
    store.getState().setSelected(new Set([t]));
    store.getState().setConfig({ backend: 'cpu', timing: 'cold', repeats: 0 });
    let req = buildRunRequest(store.getState());
    expect(req).toMatchObject({ timing: 'hot' });
    expect(req).not.toHaveProperty('repeats');
    store.getState().setConfig({ repeats: 50 });
    req = buildRunRequest(store.getState());
    expect(req).toMatchObject({ repeats: 50 });
    store.getState().setConfig({ repeats: 5000 });
    expect(buildRunRequest(store.getState())).toEqual({ error: expect.stringMatching(/^Repeats must be/) });
  });
});

describe('stale and hidden state', () => {
  it('results keep naming the model and device they came from after another model opens', async () => {
    const store = createAppStore(new FakeApi({ jobMs: 1 }), {
      schedule: (cb) => queueMicrotask(cb),
      heartbeatMs: 0,
    });
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    store.getState().setSelected(new Set([store.getState().model!.tensors.find((x) => x.supported)!.name]));
    await store.getState().startRun();
    const t0 = Date.now();
    while (store.getState().run.status !== 'done' && Date.now() - t0 < 5000)
      await new Promise((r) => setTimeout(r, 5));
    expect(store.getState().resultsFor).toMatchObject({
      modelName: 'tiny.gguf',
      modelPath: '/models/tiny.gguf',
      device: 'cpu:0 Fake CPU',
    });
    await store.getState().openModel('/models/big.gguf');
    expect(store.getState().model?.fileName).toBe('big.gguf');
    expect(store.getState().resultsFor?.modelName).toBe('tiny.gguf');
  });
  it('a run refused for its setup says so on whichever tab is shown', async () => {
    const store = createAppStore(new FakeApi(), { heartbeatMs: 0 });
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    store.getState().setView('results');
    await store.getState().startRun();
    expect(store.getState().notice).toEqual({
      kind: 'error',
      text: expect.stringMatching(/Select at least one/),
    });
  });
  it('the file list is "loading" until it answers, and does not wait for the device probe', async () => {
    const api = new FakeApi();
    let releaseDevices!: () => void;
    const devices = api.devices.bind(api);
    api.devices = () => new Promise((r) => (releaseDevices = () => r(devices())));
    const store = createAppStore(api, { heartbeatMs: 0 });
    expect(store.getState().filesLoading).toBe(true);
    const init = store.getState().init();
    await new Promise((r) => setTimeout(r, 20));
    expect(store.getState().filesLoading).toBe(false);
    expect(store.getState().files.length).toBe(3);
    expect(store.getState().backends).toEqual([]);
    releaseDevices();
    await init;
    expect(store.getState().backends.length).toBe(3);
  });
});

describe('chart axes and the error histogram', () => {
  it('ticks evenly from 0 on 1/2/2.5/5 steps, the domain ending on a tick', () => {
    expect(niceTicks(0.65)).toEqual({ domain: [0, 0.8], ticks: [0, 0.2, 0.4, 0.6, 0.8] });
    expect(niceTicks(0.5)).toEqual({ domain: [0, 0.5], ticks: [0, 0.1, 0.2, 0.3, 0.4, 0.5] });
    expect(niceTicks(230).ticks).toEqual([0, 50, 100, 150, 200, 250]);
    expect(niceTicks(0)).toEqual({ domain: [0, 1], ticks: [0, 0.5, 1] });
    for (const max of [0.013, 7.7, 123456, 3e9]) {
      const { domain, ticks } = niceTicks(max);
      expect(domain[1]).toBeGreaterThanOrEqual(max);
      const steps = ticks.slice(1).map((t, i) => t - ticks[i]);
      for (const st of steps) expect(st).toBeCloseTo(steps[0], 9);
    }
  });
  it('chooses the byte unit by magnitude (GiB for 200000 MiB)', () => {
    expect(byteUnit(200000 * 2 ** 20)).toEqual({ unit: 'GiB', div: 2 ** 30 });
    expect(byteUnit(700 * 1024)).toEqual({ unit: 'KiB', div: 1024 });
    expect(byteUnit(1000)).toEqual({ unit: 'B', div: 1 });
  });
  it('sizes the room under rotated labels to the longest label, and the left margin to the first', () => {
    const short = rotatedLabelHeight(['a · m=1']);
    const long = rotatedLabelHeight(['blk.10.attn_output · m=512']);
    expect(short).toBeLessThan(long);
    expect(long).toBeLessThanOrEqual(140);
    expect(rotatedLabelLeft('token_embd · m=1')).toBeGreaterThan(8);
    expect(rotatedLabelLeft(undefined)).toBe(8);
  });
  it('bins the grid cells on the heatmap scale and counts zero, NaN and off-scale cells', () => {
    const h = errorHistogram([0, 1e-8, 1e-7, 1e-6, 1e-6, null, Infinity, 1e-12], { lo: -8, hi: -6 }, 4);
    expect(h.total).toBe(8);
    expect(h.zero).toBe(1);
    expect(h.nonFinite).toBe(2);
    expect(h.below).toBe(1);
    expect(h.bins).toEqual([1, 0, 1, 2]);
    expect(h.edges).toEqual([-8, -7.5, -7, -6.5, -6]);
    expect(errorHistogram([0, 0], null).zero).toBe(2);
  });
  it('writes shapes as rows n × columns k', () => {
    expect(fmtRowsCols({ dims: [512, 1024], n: 1024, k: 512 })).toBe('1024 × 512');
    expect(fmtRowsCols({ dims: [512], n: 1, k: 512 })).toBe('512');
  });
});
