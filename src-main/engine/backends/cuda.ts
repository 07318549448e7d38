/** The CUDA backend: the generic GPU backend over the CUDA driver API + NVRTC. */
import type { Backend } from './types';
import { createGpuBackend } from './gpu/backend';
import { CudaRuntime } from './gpu/cuda-runtime';

export const cudaBackend: Backend = createGpuBackend('cuda', () => new CudaRuntime());
