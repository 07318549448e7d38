/**
 * The devices of a run over several devices, from its results (each carries `slot`, `deviceIndex` and
 * the `device` line 'hip:1 AMD Instinct MI300X'), for the side-by-side view. A saved run also lists
 * them itself (`devices` in the record), which then wins: it names devices that produced no result.
 */
import type { TensorResult } from '../../../src-shared/contract';
import { analyzeDevices, type DeviceAnalysis, type DeviceRunEntry } from '../../../src-shared/devices';

export function devicesFromResults(results: readonly TensorResult[]): DeviceRunEntry[] {
  const bySlot = new Map<number, DeviceRunEntry>();
  for (const r of results) {
    if (r.slot === undefined || bySlot.has(r.slot)) continue;
    // 'hip:1 AMD Instinct MI300X' -> the name after the backend:index prefix
    const name = r.device.replace(/^[a-z]+:\d+\s*/, '') || null;
    bySlot.set(r.slot, {
      slot: r.slot,
      backend: r.backend,
      index: r.deviceIndex ?? r.slot,
      name,
      arch: null,
      status: 'done',
    });
  }
  return [...bySlot.values()].sort((a, b) => a.slot - b.slot);
}

/** The side-by-side analysis, or null for a run on one device. */
export function deviceAnalysisOf(
  results: readonly TensorResult[],
  devices?: readonly DeviceRunEntry[],
): DeviceAnalysis | null {
  const list = devices && devices.length > 0 ? devices : devicesFromResults(results);
  if (list.length === 0) return null;
  return analyzeDevices(list, results);
}
