/**
 * Several devices in one run, side by side: a verdict per device, speed per device with the spread
 * between identical cards, and the jobs whose outputs differ bitwise between identical cards
 * ("twins": devices of the same name and architecture running the same kernel on the same inputs
 * should write the same bits). Pure functions over plain data, shared by the engine (CLI tables, JSON,
 * reports) and the renderer.
 */

/**
 * A device's compute units in words, as the run setup and the report write them: a cpu's worker
 * threads, a GPU's compute units ("104 CUs" on hip, "132 SMs" on cuda); "1 worker thread", never
 * "1 threads". A cpu pool that leaves threads free for the app's UI (`keptForApp`, the app's engine:
 * one fewer than the CLI runs) says so: "1 worker thread (one core kept for the app)", so its timings
 * are not taken for the CLI's.
 */
export function computeUnitsText(backend: string, n: number, keptForApp?: number | null): string {
  if (backend === 'cpu')
    return `${n} worker thread${n === 1 ? '' : 's'}${keptForApp ? ` (${keptForAppText(keptForApp)})` : ''}`;
  const unit = backend === 'cuda' ? 'SM' : backend === 'hip' ? 'CU' : 'CU/SM';
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** "one core kept for the app", "2 cores kept for the app". */
export function keptForAppText(kept: number): string {
  return `${kept === 1 ? 'one core' : `${kept} cores`} kept for the app`;
}

/**
 * A GPU session's kernel settings that differ from the defaults (DeviceSummary.kernelSettings) as the
 * CLI, the reports and History write them: "kernel settings QS_LDW=16, QS_Q6_P8=1"; null for none.
 */
export function kernelSettingsText(settings: readonly string[] | null | undefined): string | null {
  return settings?.length ? `kernel settings ${settings.join(', ')}` : null;
}

/** Why the app's cpu backend runs fewer worker threads than the CLI, for a hint beside the count. */
export const KEPT_FOR_APP_WHY =
  'The app runs the cpu backend with one worker thread fewer than the command line (quantscope verify), ' +
  'so the window stays responsive during a run; cpu timings from the app and the CLI differ for that reason.';

/** One device of a several-device run (an index may appear twice: two workers on one device). */
export interface DeviceRunEntry {
  /** position in the device list */
  slot: number;
  backend: string;
  index: number;
  /** null when the device could not be opened and its name is unknown */
  name: string | null;
  arch: string | null;
  pciBusId?: string | null;
  uuid?: string | null;
  /** how this device's part of the run ended */
  status: 'done' | 'cancelled' | 'failed';
  error?: string;
  /** the worker thread the device was bound on, where it had one */
  thread?: number | null;
}

/** The fields of a result the analysis reads (TensorResult and record results both have them). */
export interface DeviceResultLike {
  slot?: number;
  tensor: string;
  m: number;
  status: string;
  outputHash?: string;
  timing?: { medianUs: number } | null;
}

export interface DeviceVerdict {
  slot: number;
  index: number;
  /** 'hip:1 AMD Instinct MI300X (0000:c1:00.0)' */
  label: string;
  /** the twins' group this device is in */
  group: string;
  verdict: 'pass' | 'fail' | 'error';
  pass: number;
  fail: number;
  error: number;
  total: number;
  /** why the device failed as a whole (could not be opened, its worker stopped) */
  deviceError?: string;
  /** sum of median times over the jobs every twin timed (µs); null where none was timed */
  totalUs: number | null;
  /** totalUs over the fastest twin's (1 = the fastest); null without timing */
  vsFastest: number | null;
  /** jobs whose output differs from its twins' */
  differs: number;
}

export interface TwinGroup {
  /** 'AMD Instinct MI300X / gfx942' */
  key: string;
  slots: number[];
  /** (slowest - fastest) / fastest over the twins' totalUs; null with fewer than two timed twins */
  spread: number | null;
}

export interface TwinDifference {
  tensor: string;
  m: number;
  group: string;
  slot: number;
  index: number;
  hash: string;
  /** the hash most twins wrote; null on a tie (then every twin is listed) */
  majorityHash: string | null;
  /** slots that wrote the majority hash */
  agreeing: number[];
}

export interface DeviceAnalysis {
  devices: DeviceVerdict[];
  groups: TwinGroup[];
  differences: TwinDifference[];
}

export function deviceLabel(d: Pick<DeviceRunEntry, 'backend' | 'index' | 'name' | 'pciBusId'>): string {
  const bus = d.pciBusId ? ` (${d.pciBusId})` : '';
  return `${d.backend}:${d.index}${d.name ? ` ${d.name}` : ''}${bus}`;
}

export function groupKey(d: Pick<DeviceRunEntry, 'name' | 'arch' | 'slot'>): string {
  // a device that never opened is a group of its own: nothing is known to make it anyone's twin
  return d.name ? `${d.name} / ${d.arch ?? '?'}` : `unknown device (slot ${d.slot})`;
}

const jobKey = (r: { tensor: string; m: number }) => `${r.tensor}\u0000${r.m}`;

export function analyzeDevices(
  devices: readonly DeviceRunEntry[],
  results: readonly DeviceResultLike[],
): DeviceAnalysis {
  const bySlot = new Map<number, DeviceResultLike[]>();
  for (const d of devices) bySlot.set(d.slot, []);
  for (const r of results) if (r.slot !== undefined) bySlot.get(r.slot)?.push(r);

  const groupsByKey = new Map<string, DeviceRunEntry[]>();
  for (const d of devices) {
    const k = groupKey(d);
    const g = groupsByKey.get(k) ?? [];
    g.push(d);
    groupsByKey.set(k, g);
  }

  const differences: TwinDifference[] = [];
  const differsBySlot = new Map<number, number>();
  const totalUs = new Map<number, number | null>();
  const groups: TwinGroup[] = [];
  const fastestOf = new Map<string, number | null>();
  for (const [key, members] of groupsByKey) {
    // bitwise: per job, the hashes of the twins that produced an output
    const hashes = new Map<string, { tensor: string; m: number; bySlot: Map<number, string> }>();
    for (const d of members)
      for (const r of bySlot.get(d.slot) ?? []) {
        if (!r.outputHash) continue;
        const k = jobKey(r);
        const e = hashes.get(k) ?? { tensor: r.tensor, m: r.m, bySlot: new Map() };
        e.bySlot.set(d.slot, r.outputHash);
        hashes.set(k, e);
      }
    for (const e of hashes.values()) {
      if (e.bySlot.size < 2) continue;
      const counts = new Map<string, number>();
      for (const h of e.bySlot.values()) counts.set(h, (counts.get(h) ?? 0) + 1);
      if (counts.size === 1) continue;
      const best = Math.max(...counts.values());
      const top = [...counts.entries()].filter(([, c]) => c === best);
      const majority = top.length === 1 ? top[0][0] : null;
      const agreeing = [...e.bySlot.entries()].filter(([, h]) => h === majority).map(([s]) => s);
      for (const [slot, h] of e.bySlot) {
        if (h === majority) continue;
        differences.push({
          tensor: e.tensor,
          m: e.m,
          group: key,
          slot,
          index: members.find((d) => d.slot === slot)!.index,
          hash: h,
          majorityHash: majority,
          agreeing,
        });
        differsBySlot.set(slot, (differsBySlot.get(slot) ?? 0) + 1);
      }
    }
    // speed: the jobs every twin of the group timed, so the totals compare like with like
    const timed = members.map(
      (d) =>
        new Map(
          (bySlot.get(d.slot) ?? [])
            .filter((r) => r.timing && Number.isFinite(r.timing.medianUs))
            .map((r) => [jobKey(r), r.timing!.medianUs] as const),
        ),
    );
    const withTiming = members.map((d, i) => ({ d, t: timed[i] })).filter((x) => x.t.size > 0);
    const common = withTiming.length
      ? [...withTiming[0].t.keys()].filter((k) => withTiming.every((x) => x.t.has(k)))
      : [];
    for (const d of members) totalUs.set(d.slot, null);
    if (common.length > 0)
      for (const x of withTiming)
        totalUs.set(
          x.d.slot,
          common.reduce((s, k) => s + x.t.get(k)!, 0),
        );
    const totals = withTiming.map((x) => totalUs.get(x.d.slot)!).filter((v): v is number => v !== null);
    const fastest = totals.length ? Math.min(...totals) : null;
    groups.push({
      key,
      slots: members.map((d) => d.slot),
      spread: totals.length >= 2 && fastest! > 0 ? (Math.max(...totals) - fastest!) / fastest! : null,
    });
    fastestOf.set(key, fastest);
  }

  const verdicts = devices.map((d): DeviceVerdict => {
    const rs = bySlot.get(d.slot) ?? [];
    const pass = rs.filter((r) => r.status === 'pass').length;
    const fail = rs.filter((r) => r.status === 'fail').length;
    const error = rs.length - pass - fail;
    const t = totalUs.get(d.slot) ?? null;
    const fastest = fastestOf.get(groupKey(d)) ?? null;
    const deviceError = d.status === 'done' ? undefined : (d.error ?? `device run ${d.status}`);
    return {
      slot: d.slot,
      index: d.index,
      label: deviceLabel(d),
      group: groupKey(d),
      verdict: deviceError || error > 0 ? 'error' : fail > 0 ? 'fail' : 'pass',
      pass,
      fail,
      error,
      total: rs.length,
      ...(deviceError ? { deviceError } : {}),
      totalUs: t,
      vsFastest: t !== null && fastest ? t / fastest : null,
      differs: differsBySlot.get(d.slot) ?? 0,
    };
  });
  differences.sort((a, b) => a.tensor.localeCompare(b.tensor) || a.m - b.m || a.slot - b.slot);
  return { devices: verdicts, groups, differences };
}
