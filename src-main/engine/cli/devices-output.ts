/** The CLI's view of a run over several devices: the per-device verdict table and the twins' sections. */
import type { DeviceAnalysis } from '../../../src-shared/devices';
import { DEVICE_HEAD, deviceRows, differenceLines, groupLines } from '../report/devices-report';
import { parseDeviceSpec, type DeviceSpec } from '../devices/spec';
import { UsageError, stringOption, type CliContext } from './framework';
import { tableLines } from './table';
import { termSafe } from './term';

/** `--device N|all|0,2,5` (default 0), with a one-line usage error. */
export function deviceOption(values: CliContext['values']): DeviceSpec {
  const v = stringOption(values, 'device');
  if (v === undefined) return { kind: 'one', index: 0 };
  try {
    return parseDeviceSpec(v);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function deviceAnalysisLines(a: DeviceAnalysis): string[] {
  return [
    '',
    'devices:',
    ...tableLines(
      DEVICE_HEAD,
      deviceRows(a).map((r) => r.map(termSafe)),
      [true, false, false, true, true, true, true, true, true],
    ),
    '',
    'identical cards:',
    ...groupLines(a).map((l) => `  ${termSafe(l)}`),
    '',
    'differs from twins:',
    ...(a.differences.length
      ? differenceLines(a).map((l) => `  ${termSafe(l)}`)
      : ['  none: identical cards wrote identical bits']),
  ];
}

/** Whether every device of the analysis passed (the one exit code of a several-device run). */
export function allDevicesPass(a: DeviceAnalysis): boolean {
  return a.devices.every((d) => d.verdict === 'pass');
}
