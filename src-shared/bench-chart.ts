/**
 * A bench record's chart: our median time per format and batch size, beside the peer's time for the
 * same format, shape and batch size where the record holds the peer's figures, and the peer's source
 * in one line. Pure functions over the record, read by the app (History) and the bench report, so
 * both draw the same figures under the same source line.
 */
import type { BenchRecordData, BenchRecordRow } from './contract/types';

export type BenchPeer = NonNullable<BenchRecordData['peer']>;

/**
 * Where the peer's figures come from, in one line: whose times they are, the device they belong to,
 * the peer's build and when it ran (where its file says), and the file or table they were read from.
 */
export function peerSourceLine(peer: BenchPeer): string {
  return [
    peer.label,
    peer.device ? `device ${peer.device}` : 'device not named in the source',
    ...(peer.commit ? [`build ${peer.commit}`] : []),
    ...(peer.measuredAt ? [`measured ${peer.measuredAt}`] : []),
    `source: ${peer.source}`,
  ].join(' · ');
}

/** The peer's time over ours: above 1, ours is faster (the CLI's "vs llama" column). */
export function vsPeer(r: Pick<BenchRecordRow, 'medianUs' | 'peerUs'>): number | null {
  return r.peerUs != null && r.peerUs > 0 && r.medianUs > 0 ? r.peerUs / r.medianUs : null;
}

/**
 * An axis tick of the chart (a time in µs) in the unit it reads best in: 50 µs, 2 ms, 1 s. Every tick
 * carries its unit, so the axis needs none of its own (the ticks span decades: µs to ms on a cpu).
 */
export function timeTick(us: number): string {
  const [v, unit] = us < 1000 ? [us, 'µs'] : us < 1e6 ? [us / 1000, 'ms'] : [us / 1e6, 's'];
  return `${Number(v.toPrecision(12))} ${unit}`;
}

/** The key of the peer's series in a group's values. */
export const PEER_SERIES = 'peer';

export interface BenchChartSeries {
  /** the key of this series' value in each group (`s0`, `s1`, ... for ours; PEER_SERIES) */
  key: string;
  label: string;
  peer: boolean;
}

export interface BenchChartGroup {
  key: string;
  /** `Q4_K m=1` (with the shape when the record holds several) */
  label: string;
  format: string;
  n: number;
  k: number;
  m: number;
  /** µs by series key; null where that series has no row */
  values: Record<string, number | null>;
}

export interface BenchChart {
  /** ours first (one per device slot, protocol and path asked for), then the peer's */
  series: BenchChartSeries[];
  /** one per format, shape and batch size, in the record's format order, m ascending */
  groups: BenchChartGroup[];
  /** the peer whose figures the chart shows: null when it shows none */
  peer: BenchPeer | null;
  /** a log scale over every value, µs: decades, with 2 and 5 between them when it spans one decade */
  axis: { domain: [number, number]; ticks: number[] };
}

const slotOf = (r: BenchRecordRow): number | null => (typeof r.slot === 'number' ? r.slot : null);
const requestedOf = (r: BenchRecordRow): string => (typeof r.requested === 'string' ? r.requested : r.path);

/**
 * The chart of a bench record. The peer's series appears only when the record names its peer and
 * holds at least one of its figures. In a record of several devices, the peer's figures are those of
 * the first device's rows (the lowest slot): the record's peer label describes that device.
 */
export function benchChart(bench: BenchRecordData | null | undefined): BenchChart {
  const rows = (bench?.rows ?? []).filter((r) => Number.isFinite(r.medianUs) && r.medianUs > 0);
  const slots = [...new Set(rows.map(slotOf))].sort((a, b) => (a ?? -1) - (b ?? -1));
  const protocols = [...new Set(rows.map((r) => r.protocol))];
  const paths = [...new Set(rows.map(requestedOf))];
  const shapes = new Set(rows.map((r) => `${r.n}×${r.k}`));

  const seriesKey = (r: BenchRecordRow) => `${slotOf(r)}|${r.protocol}|${requestedOf(r)}`;
  const ours = new Map<string, BenchChartSeries>();
  const ordered = [...rows].sort(
    (a, b) =>
      (slotOf(a) ?? -1) - (slotOf(b) ?? -1) ||
      protocols.indexOf(a.protocol) - protocols.indexOf(b.protocol) ||
      paths.indexOf(requestedOf(a)) - paths.indexOf(requestedOf(b)),
  );
  for (const r of ordered) {
    const id = seriesKey(r);
    if (ours.has(id)) continue;
    const slot = slotOf(r);
    const label = [
      slots.length > 1 && slot !== null ? `slot ${slot}:` : null,
      'QuantScope',
      r.protocol,
      paths.length > 1 ? `(--path ${requestedOf(r)})` : null,
    ]
      .filter(Boolean)
      .join(' ');
    ours.set(id, { key: `s${ours.size}`, label, peer: false });
  }

  const formats = [...new Set(rows.map((r) => r.format))];
  const groups = new Map<string, BenchChartGroup>();
  const groupKey = (r: Pick<BenchRecordRow, 'format' | 'n' | 'k' | 'm'>) =>
    `${r.format}|${r.n}|${r.k}|${r.m}`;
  const sorted = [...rows].sort(
    (a, b) => formats.indexOf(a.format) - formats.indexOf(b.format) || a.n - b.n || a.k - b.k || a.m - b.m,
  );
  for (const r of sorted) {
    const key = groupKey(r);
    let g = groups.get(key);
    if (!g) {
      g = {
        key,
        label: `${r.format}${shapes.size > 1 ? ` ${r.n}×${r.k}` : ''} m=${r.m}`,
        format: r.format,
        n: r.n,
        k: r.k,
        m: r.m,
        values: Object.fromEntries([...ours.values()].map((s) => [s.key, null])),
      };
      groups.set(key, g);
    }
    const s = ours.get(seriesKey(r))!;
    // a repeated row of one series (it should not happen) keeps its first time
    g.values[s.key] ??= r.medianUs;
  }

  const peerSlot = slots[0] ?? null;
  let peer: BenchPeer | null = null;
  if (bench?.peer) {
    for (const r of rows) {
      if (slotOf(r) !== peerSlot || r.peerUs == null || !(r.peerUs > 0)) continue;
      const g = groups.get(groupKey(r))!;
      g.values[PEER_SERIES] ??= r.peerUs;
      peer = bench.peer;
    }
  }
  const series = [...ours.values()];
  if (peer) {
    series.push({ key: PEER_SERIES, label: peer.label, peer: true });
    for (const g of groups.values()) g.values[PEER_SERIES] ??= null;
  }
  const all = [...groups.values()].flatMap((g) =>
    Object.values(g.values).filter((v): v is number => v != null),
  );
  return { series, groups: [...groups.values()], peer, axis: logDecades(all) };
}

/** Decades around every value (bars start at the bottom one); 2 and 5 between when they span one. */
function logDecades(values: readonly number[]): { domain: [number, number]; ticks: number[] } {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  if (pos.length === 0) return { domain: [1, 10], ticks: [1, 10] };
  const lo = Math.floor(Math.log10(Math.min(...pos)));
  let hi = Math.ceil(Math.log10(Math.max(...pos)));
  if (hi === lo) hi = lo + 1;
  const ticks: number[] = [];
  for (let d = lo; d <= hi; d++) {
    const p = 10 ** d;
    ticks.push(Number(p.toPrecision(12)));
    if (hi - lo === 1 && d < hi) ticks.push(Number((2 * p).toPrecision(12)), Number((5 * p).toPrecision(12)));
  }
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks };
}
