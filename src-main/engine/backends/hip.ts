/** The HIP (ROCm) backend: the generic GPU backend over the HIP runtime + hiprtc. */
import type { Backend } from './types';
import { createGpuBackend } from './gpu/backend';
import { HipRuntime } from './gpu/hip-runtime';

export const hipBackend: Backend = createGpuBackend('hip', () => new HipRuntime());
