export {
  WorkerPool,
  abortError,
  configurePool,
  defaultPoolSize,
  getPool,
  isAbortError,
  poolSize,
  runChunks,
  setWorkerScript,
  shutdownPool,
  type ChunkTask,
  type TaskOptions,
} from './pool';
export { isPoolWorker, runWorkerIfRequested } from './worker-loop';
