/**
 * Messages between the main process and the engine utility process (engine-host.ts). Plain
 * structured-clone data; the main process has already validated every call's arguments.
 */
import type { RunEvent } from '../../src-preload/api';
import type { ApiMethod } from '../engine/server/api-schemas';
import type { EngineOptions } from '../engine/service';

/** The engine methods the host serves (pickModelFile is the shell's own). */
export type EngineMethod = Exclude<ApiMethod, 'pickModelFile'>;

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

export const ENGINE_METHODS: readonly EngineMethod[] = [
  'appInfo',
  'listModelFiles',
  'openModel',
  'devices',
  'startRun',
  'cancelRun',
  'errorGrid',
  'exportReport',
];
