/**
 * Walks the contract's method table and checks that every face serves every method without a list
 * of its own: the preload exposes it on its channel, the Electron main process registers a handler
 * behind the trusted-sender check, the browser server routes it, the renderer's HTTP client posts
 * it, the engine process relays it, EngineService implements it and validates its arguments, and
 * the renderer's test fake has it. A method added to the table shows up in all of them or fails here.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  API_METHOD_NAMES,
  API_METHODS,
  ENGINE_METHOD_NAMES,
  apiArgSchemas,
  apiChannel,
  apiRoute,
  createApiHandlers,
  type EngineApi,
  type EngineMethod,
  type RunEvent,
  type ShellHooks,
} from '../../src-shared/contract';
import { registerApiHandlers, type IpcMainLike } from '../../src-main/app/ipc';
import { runEngineHost } from '../../src-main/app/engine-host-core';
import type { FromHost, ToHost } from '../../src-main/app/engine-protocol';
import { validateCalls } from '../../src-main/engine/api';
import { EngineService } from '../../src-main/engine/service';
import { startServer, type RunningServer } from '../../src-main/engine/server/serve';
import { createHttpApi } from '../../src-renderer/src/api/http-client';
import { FakeApi } from '../renderer/fakeApi';

const electron = vi.hoisted(() => {
  const exposed: Record<string, unknown> = {};
  const invoked: { channel: string; args: unknown[] }[] = [];
  return {
    exposed,
    invoked,
    module: {
      contextBridge: {
        exposeInMainWorld: (key: string, value: unknown) => {
          exposed[key] = value;
        },
      },
      ipcRenderer: {
        invoke: async (channel: string, ...args: unknown[]) => {
          invoked.push({ channel, args });
          return { ok: true, value: channel };
        },
        on: () => undefined,
        removeListener: () => undefined,
        send: () => undefined,
      },
      webUtils: { getPathForFile: () => '' },
    },
  };
});
vi.mock('electron', () => electron.module);

/** An engine built from the table: each method records its call; validated like EngineService. */
function tableEngine(): { engine: EngineApi; calls: string[] } {
  const calls: string[] = [];
  const impl: Record<string, unknown> = {
    onRunEvent: (_cb: (ev: RunEvent) => void) => () => undefined,
    dispose: async () => undefined,
  };
  for (const m of ENGINE_METHOD_NAMES)
    impl[m] = async () => {
      calls.push(m);
      return null;
    };
  return { engine: validateCalls(impl as unknown as EngineApi), calls };
}

describe('the method table', () => {
  it('has a schema for every method and nothing else', () => {
    expect(Object.keys(apiArgSchemas).sort()).toEqual([...API_METHOD_NAMES].sort());
    for (const m of API_METHOD_NAMES) expect(API_METHODS[m].name).toBe(m);
    expect(ENGINE_METHOD_NAMES).toEqual(API_METHOD_NAMES.filter((m) => !API_METHODS[m].shellOnly));
    expect(ENGINE_METHOD_NAMES).not.toContain('pickModelFile');
  });

  it('the preload exposes every method on its own channel', async () => {
    await import('../../src-preload/index');
    const api = electron.exposed.quantscope as Record<string, (...a: unknown[]) => Promise<unknown>>;
    expect(api).toBeDefined();
    for (const m of API_METHOD_NAMES) {
      expect(typeof api[m], m).toBe('function');
      expect(await api[m]('a', 1)).toBe(API_METHODS[m].voidResult ? undefined : apiChannel(m));
      expect(electron.invoked.at(-1)).toEqual({ channel: apiChannel(m), args: ['a', 1] });
    }
    expect(Object.keys(api).sort()).toEqual(
      [...API_METHOD_NAMES, 'onRunEvent', 'onMenuCommand', 'pathForFile'].sort(),
    );
  });

  it('the Electron main process registers every method behind the trusted-sender check', async () => {
    const handled = new Map<string, (e: { trusted: boolean }, ...a: unknown[]) => Promise<unknown>>();
    const ipc: IpcMainLike<{ trusted: boolean }> = {
      handle: (channel, fn) => handled.set(channel, fn),
      on: () => undefined,
    };
    const forwarded: string[] = [];
    const hooks: ShellHooks = {
      pickModelFile: async () => '/chosen.gguf',
      pickFile: async () => '/chosen.gguf',
    };
    registerApiHandlers(ipc, {
      handlers: createApiHandlers(async (m) => {
        forwarded.push(m);
        return m;
      }, hooks),
      trusted: (e) => e.trusted,
      describe: () => 'test frame',
      allowDropped: () => undefined,
      warn: () => undefined,
    });
    expect([...handled.keys()].sort()).toEqual(API_METHOD_NAMES.map(apiChannel).sort());
    for (const m of API_METHOD_NAMES) {
      const handler = handled.get(apiChannel(m))!;
      expect(await handler({ trusted: false })).toMatchObject({ ok: false, message: /refused/ });
      // a shell hook parses its arguments first: pickFile gets a valid one
      const reply = await handler({ trusted: true }, ...(m === 'pickFile' ? ['code-object'] : []));
      if (API_METHODS[m].shellOnly) expect(reply).toEqual({ ok: true, value: '/chosen.gguf' });
      else expect(reply).toEqual({ ok: true, value: m });
    }
    expect(forwarded).toEqual(ENGINE_METHOD_NAMES);
  });

  it('a shell must answer every shell-only method itself', () => {
    expect(() => createApiHandlers(async () => null, {} as ShellHooks)).toThrow(
      /no handler for pickModelFile/,
    );
  });

  describe('browser mode', () => {
    let dir: string;
    let srv: RunningServer;
    const { engine, calls } = tableEngine();

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'qs-table-'));
      srv = await startServer({
        host: '127.0.0.1',
        port: 0,
        modelDirs: [dir],
        samplesDir: dir,
        uiDir: dir,
        token: 'table-token-0123',
        engine,
      });
    });
    afterAll(async () => {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the server routes every method, and the engine validates what it forwards', async () => {
      for (const m of API_METHOD_NAMES) {
        const res = await fetch(`http://127.0.0.1:${srv.port}${apiRoute(m)}`, {
          method: 'POST',
          headers: { Authorization: 'Bearer table-token-0123', 'Content-Type': 'application/json' },
          body: '[]',
        });
        expect(res.status, m).not.toBe(404);
        if (res.status !== 200) {
          // arguments missing: the table's schema refused them, naming the method
          expect(res.status, m).toBe(400);
          expect((await res.json()).message).toMatch(new RegExp(`^${m}: expected \\d arguments?, got 0$`));
        }
      }
      const zeroArg = ENGINE_METHOD_NAMES.filter((m) => apiArgSchemas[m].def.items.length === 0);
      expect(calls).toEqual(zeroArg);
    });

    it('the HTTP client posts every method to its route', async () => {
      const posted: string[] = [];
      const api = createHttpApi({
        baseUrl: 'http://x',
        fetchImpl: (async (url: string) => {
          posted.push(url);
          return new Response('null', { status: 200 });
        }) as unknown as typeof fetch,
      }) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      for (const m of API_METHOD_NAMES) await api[m]();
      expect(posted).toEqual(API_METHOD_NAMES.map((m) => `http://x${apiRoute(m)}`));
    });
  });

  it('the engine process relays every engine method and refuses the rest', async () => {
    const { engine, calls } = tableEngine();
    const replies = new Map<number, FromHost>();
    let onMessage: (m: unknown) => void = () => undefined;
    runEngineHost(
      {
        postMessage: (m) => {
          if (m.type === 'reply') replies.set(m.id, m);
        },
        onMessage: (cb) => {
          onMessage = cb;
        },
      },
      () => engine,
      () => undefined,
    );
    const send = async (m: ToHost) => {
      onMessage(m);
      await new Promise((r) => setTimeout(r, 1));
    };
    await send({
      type: 'init',
      options: { mode: 'electron', samplesDir: '/', modelDirs: [], restrictToDirs: false },
    });
    let id = 0;
    for (const m of API_METHOD_NAMES)
      await send({ type: 'call', id: ++id, method: m as EngineMethod, args: [] });
    id = 0;
    for (const m of API_METHOD_NAMES) {
      const reply = replies.get(++id);
      if (API_METHODS[m].shellOnly)
        expect(reply).toMatchObject({ ok: false, message: /unknown engine method/ });
      else expect(reply, m).toBeDefined();
    }
    expect(calls).toEqual(ENGINE_METHOD_NAMES.filter((m) => apiArgSchemas[m].def.items.length === 0));
  });

  it('EngineService implements every engine method and validates its arguments', async () => {
    const svc = new EngineService({
      mode: 'cli',
      samplesDir: '/',
      modelDirs: [],
      restrictToDirs: false,
      workerThreads: 1,
    });
    try {
      for (const m of ENGINE_METHOD_NAMES) {
        expect(typeof svc[m], m).toBe('function');
        const arity = apiArgSchemas[m].def.items.length;
        const call = (svc[m] as (...a: unknown[]) => Promise<unknown>)(...new Array(arity + 1).fill(1));
        await expect(call, m).rejects.toThrow(`${m}: expected ${arity} argument`);
      }
    } finally {
      await svc.dispose();
    }
  });

  it('the renderer test fake has every method', () => {
    const fake = new FakeApi() as unknown as Record<string, unknown>;
    for (const m of API_METHOD_NAMES) expect(typeof fake[m], m).toBe('function');
  });
});
