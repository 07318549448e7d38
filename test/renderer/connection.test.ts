import { describe, it, expect } from 'vitest';
import { createAppStore, connectionFailure, type AppStore } from '../../src-renderer/src/store';
import { applyRunEvents, IDLE_RUN, interruptRun } from '../../src-renderer/src/lib/runState';
import { reauthTarget } from '../../src-renderer/src/lib/connection';
import { FakeApi } from './fakeApi';

const LOST = 'cannot reach the QuantScope server (Failed to fetch); is `quantscope serve` still running?';
const UNAUTHORIZED = 'missing or wrong token: open the URL with ?token=... that `quantscope serve` printed';
const METHODS = ['appInfo', 'listModelFiles', 'devices', 'startRun', 'cancelRun', 'openModel'] as const;

/** Make every call fail the way the HTTP client fails when the server is gone (or refuses us). */
function serverDown(api: FakeApi, message = LOST): void {
  for (const m of METHODS)
    (api as unknown as Record<string, unknown>)[m] = async () => {
      throw new Error(message);
    };
}
/** The server is back: the prototype's methods answer again. */
function serverUp(api: FakeApi): void {
  for (const m of METHODS) delete (api as unknown as Record<string, unknown>)[m];
}

function makeStore(api: FakeApi): AppStore {
  return createAppStore(api, { schedule: (cb) => queueMicrotask(cb), heartbeatMs: 0 });
}

async function until(cond: () => boolean, ms = 5000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function ready(api: FakeApi, file = '/samples/tiny.gguf'): Promise<AppStore> {
  const store = makeStore(api);
  await store.getState().init();
  await store.getState().openModel(file);
  const names = store
    .getState()
    .model!.tensors.filter((t) => t.supported && t.layer === 0)
    .map((t) => t.name);
  store.getState().setSelected(new Set(names));
  store.getState().setConfig({ batchSizes: [1, 4] });
  return store;
}

describe('engine connection', () => {
  it('classifies the HTTP client errors: gone, refused, anything else', () => {
    expect(connectionFailure(new Error(LOST))).toBe('lost');
    expect(connectionFailure({ message: UNAUTHORIZED })).toBe('unauthorized');
    expect(connectionFailure(new Error('startRun failed: HTTP 401 Unauthorized'))).toBe('unauthorized');
    expect(connectionFailure(new Error('a run is already in progress'))).toBeNull();
  });

  it('marks a running run interrupted at once when the engine is lost, and Run works again', async () => {
    const api = new FakeApi({ jobMs: 30 });
    const store = await ready(api);
    await store.getState().startRun();
    await until(() => store.getState().results.length >= 1);
    serverDown(api);
    expect(await store.getState().checkConnection()).toBe('lost');
    const s = store.getState();
    expect(s.connection).toBe('lost');
    expect(s.run.status).toBe('interrupted');
    expect(s.run.error).toMatch(/engine connection lost/);
    expect(s.notice).toEqual({ kind: 'error', text: 'Engine connection lost: the run was interrupted.' });
    // Cancel has nothing to do on an interrupted run (it does not hang in "cancelling").
    await s.cancelRun();
    expect(store.getState().run.status).toBe('interrupted');
    // The engine comes back: connection restored, files and devices listed again, Run accepted.
    serverUp(api);
    expect(await store.getState().checkConnection()).toBe('ok');
    expect(store.getState().notice?.text).toMatch(/restored/);
    await store.getState().startRun();
    await until(() => store.getState().run.status === 'done');
    store.getState().dispose();
  });

  it('a cancel that cannot reach the engine interrupts the run instead of "Cancelling…" for good', async () => {
    const api = new FakeApi({ jobMs: 30 });
    const store = await ready(api);
    await store.getState().startRun();
    await until(() => store.getState().run.status === 'running');
    serverDown(api);
    await store.getState().cancelRun();
    expect(store.getState().run.status).toBe('interrupted');
    expect(store.getState().connection).toBe('lost');
  });

  it('a cancel the engine refuses leaves the run running, with the reason', async () => {
    const api = new FakeApi({ jobMs: 30 });
    const store = await ready(api);
    await store.getState().startRun();
    await until(() => store.getState().run.status === 'running');
    api.cancelRun = async () => {
      throw new Error('no such run');
    };
    await store.getState().cancelRun();
    expect(store.getState().run.status).toBe('running');
    expect(store.getState().notice?.text).toBe('Cancel failed: no such run');
    delete (api as unknown as Record<string, unknown>).cancelRun;
    await store.getState().cancelRun();
    await until(() => store.getState().run.status === 'cancelled');
  });

  it('keeps the results on screen when a run cannot start (engine down)', async () => {
    const api = new FakeApi({ jobMs: 1 });
    const store = await ready(api);
    await store.getState().startRun();
    await until(() => store.getState().run.status === 'done');
    const before = store.getState().results;
    const runBefore = store.getState().run;
    expect(before.length).toBe(store.getState().run.total);
    serverDown(api);
    await store.getState().startRun();
    const s = store.getState();
    expect(s.results).toBe(before);
    expect(s.run).toBe(runBefore);
    expect(s.configError).toMatch(/^The run did not start: cannot reach/);
    expect(s.connection).toBe('lost');
  });

  it('replaces the results only when the engine accepts the new run', async () => {
    const api = new FakeApi({ jobMs: 20 });
    const store = await ready(api);
    await store.getState().startRun();
    await until(() => store.getState().run.status === 'done');
    const first = store.getState().results;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const start = api.startRun.bind(api);
    api.startRun = async (req) => {
      await gate;
      return start(req);
    };
    const p = store.getState().startRun();
    await new Promise((r) => setTimeout(r, 20));
    expect(store.getState().run.status).toBe('starting');
    expect(store.getState().results).toBe(first); // not accepted yet
    release();
    await p;
    expect(store.getState().results).not.toBe(first);
    await until(() => store.getState().run.status === 'done');
    expect(store.getState().results.every((r) => r.runId === store.getState().run.runId)).toBe(true);
  });

  it('says so when the engine refuses the page token (restarted server)', async () => {
    const api = new FakeApi();
    const store = await ready(api);
    serverDown(api, UNAUTHORIZED);
    expect(await store.getState().checkConnection()).toBe('unauthorized');
    expect(store.getState().connectionError).toMatch(/wrong token/);
  });

  it('a heartbeat notices a lost engine within a couple of ticks', async () => {
    const api = new FakeApi({ jobMs: 50 });
    const store = createAppStore(api, { schedule: (cb) => queueMicrotask(cb), heartbeatMs: 20 });
    await store.getState().init();
    await store.getState().openModel('/samples/tiny.gguf');
    store.getState().setSelected(new Set([store.getState().model!.tensors.find((t) => t.supported)!.name]));
    store.getState().setConfig({ batchSizes: [1, 2, 3, 4, 5, 8] });
    await store.getState().startRun();
    serverDown(api);
    const t0 = Date.now();
    await until(() => store.getState().run.status === 'interrupted', 2000);
    expect(Date.now() - t0).toBeLessThan(500);
    store.getState().dispose();
  });
});

describe('run state on connection loss', () => {
  it('interrupts only active runs', () => {
    const running = { ...IDLE_RUN, status: 'running' as const, runId: 'r1' };
    expect(interruptRun(running, 'gone', 5)).toMatchObject({
      status: 'interrupted',
      error: 'gone',
      finishedAt: 5,
    });
    const done = { ...IDLE_RUN, status: 'done' as const, runId: 'r1' };
    expect(interruptRun(done, 'gone')).toBe(done);
  });

  it('adopting the started run clears the previous results', () => {
    const old = [{ resultId: 'a', runId: 'r0' }] as never[];
    const slice = {
      run: { ...IDLE_RUN, status: 'starting' as const },
      results: old,
      staleRuns: new Set(['r0']),
    };
    const next = applyRunEvents(slice, [{ type: 'progress', runId: 'r1', done: 0, total: 4, etaMs: null }]);
    expect(next.run.runId).toBe('r1');
    expect(next.results).toEqual([]);
  });
});

describe('re-authentication target', () => {
  it('takes the printed URL (any port) or a bare token for this page', () => {
    expect(reauthTarget('http://127.0.0.1:4321/?token=abcdefgh123', 'http://127.0.0.1:9/?token=old')).toEqual(
      {
        href: 'http://127.0.0.1:4321/?token=abcdefgh123',
      },
    );
    expect(reauthTarget('  abcdefgh123 ', 'http://127.0.0.1:9/?token=old#x')).toEqual({
      href: 'http://127.0.0.1:9/?token=abcdefgh123',
    });
    expect(reauthTarget('', 'http://h/')).toHaveProperty('error');
    expect(reauthTarget('http://127.0.0.1:4321/', 'http://h/')).toEqual({
      error: expect.stringMatching(/no \?token/),
    });
    expect(reauthTarget('not a token!', 'http://h/')).toHaveProperty('error');
  });
});

describe('after the engine restarts', () => {
  it('opens the model again by path, keeping the selection, and Run starts', async () => {
    const api = new FakeApi({ jobMs: 5 });
    const store = await ready(api);
    const before = store.getState().model!;
    const selected = [...store.getState().selected];
    expect(selected.length).toBeGreaterThan(0);
    serverDown(api);
    expect(await store.getState().checkConnection()).toBe('lost');
    // a new engine: it never opened the model
    serverUp(api);
    const restarted = new FakeApi({ jobMs: 5 });
    (api as unknown as { models: unknown }).models = (restarted as unknown as { models: unknown }).models;
    const opens = () => api.calls.filter((c) => c.startsWith('openModel:'));
    const opened = opens().length;
    expect(await store.getState().checkConnection()).toBe('ok');
    await until(() => opens().length > opened && store.getState().model !== before);
    const s = store.getState();
    expect(s.model?.path).toBe(before.path);
    expect([...s.selected]).toEqual(selected);
    expect(opens().at(-1)).toBe(`openModel:${before.path}`);
    await s.startRun();
    await until(() => store.getState().run.status === 'done');
    store.getState().dispose();
  });

  it('leaves the model open as it is when the engine still holds it', async () => {
    const api = new FakeApi();
    const store = await ready(api);
    const before = store.getState().model!;
    serverDown(api);
    await store.getState().checkConnection();
    serverUp(api);
    const opens = api.calls.filter((c) => c.startsWith('openModel:')).length;
    expect(await store.getState().checkConnection()).toBe('ok');
    await new Promise((r) => setTimeout(r, 20));
    expect(store.getState().model?.modelId).toBe(before.modelId);
    expect(api.calls.filter((c) => c.startsWith('openModel:')).length).toBe(opens);
    store.getState().dispose();
  });

  it('says so and closes the model view when the file cannot be opened again', async () => {
    const api = new FakeApi();
    const store = await ready(api);
    serverDown(api);
    await store.getState().checkConnection();
    serverUp(api);
    (api as unknown as { models: Map<string, unknown> }).models = new Map();
    api.openModel = async () => {
      throw new Error('tiny.gguf: no such file (ENOENT)');
    };
    await store.getState().checkConnection();
    await until(() => store.getState().model === null);
    expect(store.getState().notice?.text).toBe(
      'The engine was restarted and tiny.gguf could not be opened again: tiny.gguf: no such file (ENOENT)',
    );
    store.getState().dispose();
  });

  it('an export of a run the engine no longer holds points to History', async () => {
    const api = new FakeApi({ jobMs: 5 });
    const store = await ready(api);
    await store.getState().startRun();
    await until(() => store.getState().run.status === 'done');
    api.exportReport = async (req) => {
      throw new Error(`no run ${req.runId}`);
    };
    expect(await store.getState().exportReport('html')).toBeNull();
    expect(store.getState().notice?.text).toMatch(/no longer holds this run .*saved record is in History/);
    store.getState().dispose();
  });
});
