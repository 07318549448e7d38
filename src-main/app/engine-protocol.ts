/**
 * Messages between the main process and the engine utility process (engine-host.ts). Plain
 * structured-clone data. A call names one of the table's engine methods (shell-only methods never
 * get here) and carries the arguments as the renderer sent them; the engine validates them.
 */
import type { EngineMethod, RunEvent } from '../../src-shared/contract';
import type { EngineOptions } from '../engine/service';

export type ToHost =
  | { type: 'init'; options: EngineOptions }
  | { type: 'call'; id: number; method: EngineMethod; args: unknown[] }
  | { type: 'shutdown' };

export type FromHost =
  | { type: 'ready' }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; message: string }
  | { type: 'event'; event: RunEvent }
  | { type: 'fatal'; message: string };
