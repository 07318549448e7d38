/**
 * Main-process side of the engine utility process: starts it (lazily, again after a crash), relays
 * calls with ids, and fans run events out. Plain code over a ChildLike so tests use a fake child;
 * main.ts passes utilityProcess.fork.
 */
import type { EngineMethod, RunEvent } from '../../src-shared/contract';
import type { EngineOptions } from '../engine/service';
import type { FromHost, ToHost } from './engine-protocol';

export interface ChildLike {
  postMessage(msg: ToHost): void;
  on(ev: 'message', cb: (msg: unknown) => void): void;
  on(ev: 'exit', cb: (code: number) => void): void;
  kill(): boolean;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export class EngineClient {
  private child: ChildLike | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(ev: RunEvent) => void>();
  /** runs started and not finished: reported as failed if the engine dies under them */
  private readonly activeRuns = new Set<string>();
  /** likewise selftests */
  private readonly activeSelftests = new Set<string>();
  private disposed = false;

  constructor(
    private readonly spawn: () => ChildLike,
    private readonly options: EngineOptions,
  ) {}

  onEvent(cb: (ev: RunEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  call<T = unknown>(method: EngineMethod, args: unknown[]): Promise<T> {
    if (this.disposed) return Promise.reject(new Error('the app is shutting down'));
    const child = this.ensureChild();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.postMessage({ type: 'call', id, method, args });
    });
  }

  dispose(): void {
    this.disposed = true;
    if (this.child) {
      this.child.postMessage({ type: 'shutdown' });
      const c = this.child;
      setTimeout(() => c.kill(), 2000).unref?.();
    }
    this.child = null;
    this.failAll('the app is shutting down');
  }

  private ensureChild(): ChildLike {
    if (this.child) return this.child;
    const child = this.spawn();
    this.child = child;
    child.on('message', (m) => this.onMessage(m as FromHost));
    child.on('exit', (code) => {
      if (this.child !== child) return;
      this.child = null;
      if (this.disposed) return;
      this.failAll(
        `the engine process stopped unexpectedly (exit code ${code}); it restarts on the next action`,
      );
    });
    child.postMessage({ type: 'init', options: this.options });
    return child;
  }

  private failAll(message: string): void {
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
    for (const runId of this.activeRuns)
      this.emit({
        type: 'run-finished',
        runId,
        status: 'failed',
        error: message,
        passed: 0,
        failed: 0,
        errors: 0,
      });
    this.activeRuns.clear();
    for (const runId of this.activeSelftests)
      this.emit({ type: 'selftest-finished', runId, status: 'failed', error: message, passed: 0, failed: 0 });
    this.activeSelftests.clear();
  }

  private emit(ev: RunEvent): void {
    for (const l of [...this.listeners]) l(ev);
  }

  private onMessage(m: FromHost): void {
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'reply': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(new Error(m.message));
        return;
      }
      case 'event':
        if (m.event.type === 'run-started') this.activeRuns.add(m.event.runId);
        if (m.event.type === 'run-finished') this.activeRuns.delete(m.event.runId);
        if (m.event.type === 'selftest-started') this.activeSelftests.add(m.event.runId);
        if (m.event.type === 'selftest-finished') this.activeSelftests.delete(m.event.runId);
        this.emit(m.event);
        return;
      case 'fatal':
        this.failAll(m.message);
        return;
      case 'ready':
        return;
    }
  }
}
