import { describe, it, expect } from 'vitest';
import { EventEmitter } from 'node:events';
import { EngineClient, type ChildLike } from '../../src-main/app/engine-client';
import { runEngineHost } from '../../src-main/app/engine-host-core';
import type { FromHost, ToHost } from '../../src-main/app/engine-protocol';
import type { EngineOptions } from '../../src-main/engine/service';
import type { EngineApi, RunEvent } from '../../src-shared/contract';

/** A fake utility process: the real host loop on the other end of an in-memory channel. */
function fakeChild(engine: EngineApi, log: { inits: EngineOptions[]; kills: number }) {
  const child = new EventEmitter() as EventEmitter & ChildLike & { crash(code: number): void };
  const toHost = new EventEmitter();
  child.postMessage = (m: ToHost) => queueMicrotask(() => toHost.emit('message', structuredClone(m)));
  child.kill = () => {
    log.kills++;
    return true;
  };
  child.crash = (code) => child.emit('exit', code);
  runEngineHost(
    {
      postMessage: (m: FromHost) => queueMicrotask(() => child.emit('message', structuredClone(m))),
      onMessage: (cb) => toHost.on('message', cb),
    },
    (opts) => {
      log.inits.push(opts);
      return engine;
    },
    () => child.emit('exit', 0),
  );
  return child;
}

function fakeEngine() {
  const listeners = new Set<(ev: RunEvent) => void>();
  const engine = {
    appInfo: async () => ({ version: '1', mode: 'electron', platform: 'x' }),
    openModel: async (p: string) => {
      if (p === '/bad') throw new Error('bad file: magic\nmore');
      return { modelId: 'm', path: p };
    },
    startRun: async () => {
      queueMicrotask(() => {
        for (const l of listeners) l({ type: 'run-started', runId: 'r1', total: 1, request: {} as never });
      });
      return { runId: 'r1' };
    },
    startSelftest: async () => {
      queueMicrotask(() => {
        for (const l of listeners)
          l({ type: 'selftest-started', runId: 's1', total: 9, device: 'cpu:0', request: {} as never });
      });
      return { runId: 's1' };
    },
    cancelRun: async () => undefined,
    onRunEvent(cb: (ev: RunEvent) => void) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    dispose: async () => undefined,
  } as unknown as EngineApi;
  return engine;
}

const opts: EngineOptions = { mode: 'electron', samplesDir: '/s', modelDirs: [], restrictToDirs: false };
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('engine utility process relay', () => {
  it('relays calls and errors, streams events, and survives a crash', async () => {
    const log = { inits: [] as EngineOptions[], kills: 0 };
    const children: ReturnType<typeof fakeChild>[] = [];
    const client = new EngineClient(() => {
      const c = fakeChild(fakeEngine(), log);
      children.push(c);
      return c;
    }, opts);
    const events: RunEvent[] = [];
    client.onEvent((e) => events.push(e));

    expect(await client.call('appInfo', [])).toEqual({ version: '1', mode: 'electron', platform: 'x' });
    expect(log.inits).toEqual([opts]);
    await expect(client.call('openModel', ['/bad'])).rejects.toThrow(/^bad file: magic$/);
    expect(await client.call('cancelRun', ['r1'])).toBeNull();

    expect(await client.call('startRun', [{}])).toEqual({ runId: 'r1' });
    expect(await client.call('startSelftest', [{}])).toEqual({ runId: 's1' });
    await tick();
    expect(events.map((e) => e.type)).toEqual(['run-started', 'selftest-started']);

    // The engine dies mid-run: pending calls fail, the run is reported failed, the next call restarts it.
    const pending = client.call('appInfo', []);
    children[0].crash(134);
    await expect(pending).rejects.toThrow(/engine process stopped unexpectedly \(exit code 134\)/);
    expect(events.slice(-2)).toMatchObject([
      { type: 'run-finished', runId: 'r1', status: 'failed' },
      { type: 'selftest-finished', runId: 's1', status: 'failed' },
    ]);
    expect(await client.call('appInfo', [])).toMatchObject({ version: '1' });
    expect(children).toHaveLength(2);
    expect(log.inits).toHaveLength(2);

    client.dispose();
    await expect(client.call('appInfo', [])).rejects.toThrow(/shutting down/);
  });

  it('refuses unknown methods in the host', async () => {
    const log = { inits: [] as EngineOptions[], kills: 0 };
    const client = new EngineClient(() => fakeChild(fakeEngine(), log), opts);
    await expect(client.call('dispose' as never, [])).rejects.toThrow(/unknown engine method 'dispose'/);
    client.dispose();
  });
});
