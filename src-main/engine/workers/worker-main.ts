/** Worker entry when running from TypeScript sources (vitest, tsx); bundles use themselves instead. */
import { runWorkerIfRequested } from './worker-loop';
import { ENGINE_WORKER_TASKS } from '../devices/host';

if (!runWorkerIfRequested(ENGINE_WORKER_TASKS))
  throw new Error('worker-main.ts must be started by the worker pool');
