/**
 * `--device`: one index (`2`), every device of the backend (`all`), or a list (`0,2,5`). An index may
 * repeat (`0,0`: two workers on one device, each with its own runtime and thread), which is how a
 * machine with one GPU shows the threading at work. The cpu backend has one device, 0: `all` is it.
 */

export type DeviceSpec =
  { kind: 'one'; index: number } | { kind: 'all' } | { kind: 'list'; indices: number[] };

export const MAX_DEVICE_INDEX = 1024;
/** a list names at most this many workers */
export const MAX_DEVICE_WORKERS = 64;

/** Parses the option's text; throws an Error whose one line names what is wrong. */
export function parseDeviceSpec(text: string): DeviceSpec {
  const t = text.trim();
  if (t.toLowerCase() === 'all') return { kind: 'all' };
  const parts = t.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p)))
    throw new Error(`--device must be an index, 'all' or a list like 0,2,5, got '${text}'`);
  const indices = parts.map(Number);
  for (const i of indices)
    if (i > MAX_DEVICE_INDEX) throw new Error(`--device: index ${i} is out of range 0..${MAX_DEVICE_INDEX}`);
  if (indices.length > MAX_DEVICE_WORKERS)
    throw new Error(`--device: at most ${MAX_DEVICE_WORKERS} devices in a list, got ${indices.length}`);
  return parts.length === 1 && !t.includes(',')
    ? { kind: 'one', index: indices[0] }
    : { kind: 'list', indices };
}

/** The device indices a spec names on a backend with `count` devices; throws naming a missing one. */
export function resolveDevices(spec: DeviceSpec, count: number, backend: string): number[] {
  const all = Array.from({ length: count }, (_, i) => i);
  const list = spec.kind === 'all' ? all : spec.kind === 'one' ? [spec.index] : spec.indices;
  if (list.length === 0) throw new Error(`--device all: ${backend} has no device`);
  for (const i of list) if (i >= count) throw new Error(`--device ${i}: ${backend} has ${count} device(s)`);
  return list;
}

/** Whether the spec asks for the several-device run (per-device workers and results tagged by device). */
export function isMulti(spec: DeviceSpec): boolean {
  return spec.kind !== 'one';
}
