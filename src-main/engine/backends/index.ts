/** The backends QuantScope knows, in the order they are offered. */
import type { Backend, BackendKind, BackendStatus } from './types';
import { cpuBackend } from './cpu';
import { cudaBackend } from './cuda';
import { hipBackend } from './hip';
import { oneLine } from '../../../src-shared/contract';
import { computeRoofsFor } from '../roofs';

export const BACKENDS: readonly Backend[] = [hipBackend, cudaBackend, cpuBackend];

export const BACKEND_KINDS: readonly BackendKind[] = ['cpu', 'cuda', 'hip'];

export function backendFor(kind: string): Backend {
  const b = BACKENDS.find((x) => x.kind === kind);
  if (!b) throw new Error(`unknown backend '${kind}' (expected one of ${BACKEND_KINDS.join(', ')})`);
  return b;
}

/**
 * Every backend's status, each device with its compute roofs; never throws (a backend whose probe
 * throws is reported unavailable).
 */
export async function allStatuses(): Promise<BackendStatus[]> {
  return Promise.all(
    BACKENDS.map(async (b) => {
      try {
        const st = await b.status();
        return { ...st, devices: st.devices.map((d) => ({ ...d, computeRoofs: computeRoofsFor(d) })) };
      } catch (e) {
        return {
          backend: b.kind,
          available: false,
          reason: oneLine(e),
          devices: [],
        };
      }
    }),
  );
}
