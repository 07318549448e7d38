/** Worker entry when running from TypeScript sources (vitest, tsx); bundles use themselves instead. */
import { runWorkerIfRequested } from './worker-loop';

if (!runWorkerIfRequested()) throw new Error('worker-main.ts must be started by the worker pool');
