/**
 * The engine utility process's message loop, without Electron: takes a port (process.parentPort in
 * the real host) and a factory for the engine, so tests drive it with fakes.
 */
import { isEngineMethod, oneLine, type EngineApi, type RunEvent } from '../../src-shared/contract';
import type { EngineOptions } from '../engine/service';
import type { FromHost, ToHost } from './engine-protocol';

export interface HostPort {
  postMessage(msg: FromHost): void;
  onMessage(cb: (msg: unknown) => void): void;
}

export function runEngineHost(
  port: HostPort,
  makeEngine: (opts: EngineOptions) => EngineApi,
  exit: () => void,
): void {
  let engine: EngineApi | null = null;
  let unsubscribe: (() => void) | null = null;

  port.onMessage(async (raw) => {
    const msg = raw as ToHost;
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'init') {
      if (engine) return;
      try {
        engine = makeEngine(msg.options);
        unsubscribe = engine.onRunEvent((event: RunEvent) => port.postMessage({ type: 'event', event }));
        port.postMessage({ type: 'ready' });
      } catch (e) {
        port.postMessage({ type: 'fatal', message: `the engine failed to start: ${oneLine(e)}` });
      }
      return;
    }
    if (msg.type === 'shutdown') {
      unsubscribe?.();
      await engine?.dispose().catch(() => undefined);
      exit();
      return;
    }
    if (msg.type === 'call') {
      const { id, method, args } = msg;
      try {
        if (!engine) throw new Error('the engine is not initialised');
        if (!isEngineMethod(method)) throw new Error(`unknown engine method '${String(method)}'`);
        const fn = engine[method] as (...a: unknown[]) => Promise<unknown>; // validates its arguments
        const value = await fn.apply(engine, Array.isArray(args) ? args : []);
        port.postMessage({ type: 'reply', id, ok: true, value: value ?? null });
      } catch (e) {
        port.postMessage({ type: 'reply', id, ok: false, message: oneLine(e) });
      }
    }
  });
}
