export {
  WorkerPool,
  abortError,
  appPoolSize,
  configurePool,
  defaultPoolSize,
  getPool,
  isAbortError,
  poolKeptForApp,
  poolSize,
  runChunks,
  setWorkerScript,
  shutdownPool,
  type ChunkTask,
  type TaskOptions,
} from './pool';
export { isPoolWorker, runWorkerIfRequested } from './worker-loop';
