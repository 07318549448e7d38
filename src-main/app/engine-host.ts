/**
 * Entry of the engine utility process (utilityProcess.fork from main.ts; built by electron-vite to
 * out/main/engine-host.js). It is also the worker-thread script of the engine's worker pool, so it
 * hands itself to the pool first and becomes a worker when started as one.
 */
import { runWorkerIfRequested, setWorkerScript } from '../engine/workers';
import { ENGINE_WORKER_TASKS } from '../engine/devices/host';
import { EngineService } from '../engine/service';
import { recordStoreFor } from '../engine/records/build';
import { runEngineHost } from './engine-host-core';
import type { FromHost } from './engine-protocol';

setWorkerScript(__filename);

interface ParentPortLike {
  postMessage(msg: unknown): void;
  on(ev: 'message', cb: (e: { data: unknown }) => void): void;
}

if (!runWorkerIfRequested(ENGINE_WORKER_TASKS)) {
  const port = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
  if (!port) {
    process.stderr.write('engine-host: not started as an Electron utility process\n');
    process.exitCode = 2;
  } else {
    runEngineHost(
      {
        postMessage: (m: FromHost) => port.postMessage(m),
        onMessage: (cb) => port.on('message', (e) => cb(e.data)),
      },
      // records go to QS_RECORDS_DIR, which main.ts points at userData/records (QS_NO_RECORD=1: none)
      (opts) => new EngineService({ ...opts, records: recordStoreFor({}) }),
      () => process.exit(0),
    );
  }
}
