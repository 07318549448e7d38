/**
 * The report's section for a run over several devices: a verdict per device, speed per device with
 * the spread between identical cards, and the jobs whose outputs differ bitwise from the twins'
 * (src-shared/devices.ts computes all three).
 */
import type { TensorResult } from '../../../src-shared/contract';
import { analyzeDevices, type DeviceAnalysis, type DeviceRunEntry } from '../../../src-shared/devices';

export function devicesAnalysis(devices: DeviceRunEntry[] | undefined, results: TensorResult[]) {
  return devices ? analyzeDevices(devices, results) : null;
}

/** A result's device, for tables that list several devices' results together. */
export function resultDeviceTag(r: Pick<TensorResult, 'slot' | 'deviceIndex' | 'backend'>): string {
  if (r.slot === undefined) return '';
  const idx = r.deviceIndex ?? r.slot;
  return `${r.backend}:${idx}${idx === r.slot ? '' : ` (slot ${r.slot})`}`;
}

function pct(v: number | null): string {
  return v === null ? '—' : `${(v * 100).toFixed(1)}%`;
}
function us(v: number | null): string {
  return v === null ? '—' : v.toFixed(1);
}
function vs(v: number | null): string {
  return v === null ? '—' : `${v.toFixed(3)}×`;
}

/** Rows of the per-device verdict table: the same cells for the CLI, Markdown and HTML. */
export const DEVICE_HEAD = [
  'slot',
  'device',
  'verdict',
  'pass',
  'fail',
  'error',
  'µs (common jobs)',
  'vs fastest twin',
  'differs from twins',
];

export function deviceRows(a: DeviceAnalysis): string[][] {
  return a.devices.map((d) => [
    String(d.slot),
    d.label,
    d.deviceError ? `ERROR: ${d.deviceError}` : d.verdict.toUpperCase(),
    String(d.pass),
    String(d.fail),
    String(d.error),
    us(d.totalUs),
    vs(d.vsFastest),
    String(d.differs),
  ]);
}

export function groupLines(a: DeviceAnalysis): string[] {
  return a.groups.map(
    (g) =>
      `${g.key}: slots ${g.slots.join(', ')}; speed spread ${g.slots.length < 2 ? 'n/a (one device)' : pct(g.spread)}`,
  );
}

export function differenceLines(a: DeviceAnalysis): string[] {
  return a.differences.map(
    (x) =>
      `${x.tensor} m=${x.m}: slot ${x.slot} (index ${x.index}) wrote ${x.hash.slice(0, 12)}, ` +
      (x.majorityHash
        ? `its twins (slots ${x.agreeing.join(', ')}) ${x.majorityHash.slice(0, 12)}`
        : 'no majority among its twins'),
  );
}

export function devicesMarkdown(a: DeviceAnalysis, esc: (s: string) => string): string[] {
  const lines = [
    '## Devices',
    '',
    `| ${DEVICE_HEAD.join(' | ')} |`,
    `|${DEVICE_HEAD.map(() => '---').join('|')}|`,
    ...deviceRows(a).map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
    ...groupLines(a).map((l) => `- ${esc(l)}`),
    '',
    '### Differs from twins',
    '',
    ...(a.differences.length
      ? differenceLines(a).map((l) => `- ${esc(l)}`)
      : ['- none: identical cards wrote identical bits']),
    '',
  ];
  return lines;
}

export function devicesHtml(a: DeviceAnalysis, h: (s: string) => string): string {
  const rows = deviceRows(a)
    .map((cells, i) => {
      const cls = a.devices[i].verdict;
      return `<tr class="${cls}">${cells.map((c, j) => `<td${j >= 3 ? ' class="num"' : ''}>${h(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const diffs = a.differences.length
    ? `<ul>${differenceLines(a)
        .map((l) => `<li>${h(l)}</li>`)
        .join('')}</ul>`
    : '<p class="muted">None: identical cards wrote identical bits.</p>';
  return `<h2>Devices</h2>
<table><thead><tr>${DEVICE_HEAD.map((x) => `<th>${h(x)}</th>`).join('')}</tr></thead><tbody>
${rows}
</tbody></table>
<ul>${groupLines(a)
    .map((l) => `<li>${h(l)}</li>`)
    .join('')}</ul>
<h3>Differs from twins</h3>
${diffs}`;
}
