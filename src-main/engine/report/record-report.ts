/**
 * A saved run's report, made from its record: a verify or check record gives the correctness report
 * of ./report.ts (what the run's own Export or --report writes, as far as the record keeps it), a
 * bench record its bench report (./bench-report.ts). A selftest record has no report: its cases are
 * the record. The app's History (exportRecordReport) and `quantscope records <id> --report F` make
 * saved runs' reports here.
 *
 * What a record does not keep, the report cannot show: outputs (a result's heatmap, and a FAIL's
 * weight map, are the summaries the record kept, for up to 200 results: the same grids the run's own
 * report draws), and, in records written before they were kept, the model's architecture and name,
 * the run's start time (shown as unknown) and the weight maps.
 */
import type { DeviceRunEntry } from '../../../src-shared/devices';
import type { Diagnosis, TensorResult } from '../../../src-shared/contract';
import type { DeviceInfo } from '../backends/types';
import type { RunRecord } from '../records/schema';
import { describeActivations } from '../run/activations';
import { renderBenchReport } from './bench-report';
import { renderReport, reportFileName, type ReportInput } from './report';

export type RecordReportFormat = 'html' | 'json' | 'md';

/** The report of a saved run as a file: its name and text. Refuses, with one line, what has none. */
export function recordReport(
  rec: RunRecord,
  format: RecordReportFormat,
): { fileName: string; content: string } {
  if (rec.kind === 'bench') {
    const stamp = rec.createdAt.replace(/[:]/g, '').replace(/\..*$/, '');
    return {
      fileName: `quantscope-bench-${rec.device?.backend ?? 'bench'}-${stamp}.${format}`,
      content: renderBenchReport(rec, format),
    };
  }
  if (rec.kind === 'selftest')
    throw new Error(`record ${rec.id} is a selftest record: it has no report (its cases are the record)`);
  const input = recordReportInput(rec);
  return { fileName: reportFileName(input, format), content: renderReport(input, format) };
}

/** Where a record says nothing of a fact the report prints. */
const UNRECORDED = 'not recorded';

/**
 * The report input of a verify or check record: the run's facts and results as the record kept
 * them. A record that left results out (more than a record keeps) has no whole report.
 */
export function recordReportInput(rec: RunRecord): ReportInput {
  if (rec.kind !== 'verify' && rec.kind !== 'check')
    throw new Error(
      `record ${rec.id} is a ${rec.kind} record: a correctness report needs a verify or check record`,
    );
  const o = rec.omittedResults;
  if (o)
    throw new Error(
      `record ${rec.id} left ${o.pass + o.fail + o.error + o.notComparable} results out (a record keeps at most 50,000): ` +
        'its report would be incomplete; the run itself writes the whole report (verify --report)',
    );
  const q = rec.request;
  const check = rec.kind === 'check';
  const results = rec.results.map((r, i) => recordResult(rec, r, i));
  const maps: NonNullable<ReportInput['maps']> = {};
  rec.results.forEach((r, i) => {
    const weights = r.weightMap?.grid?.abs;
    if (r.heatmap || weights)
      maps[results[i].resultId] = {
        ...(r.heatmap ? { heatmap: r.heatmap.abs } : {}),
        ...(weights ? { weights } : {}),
      };
  });
  const model = rec.model;
  return {
    runId: rec.id,
    createdAt: rec.createdAt,
    startedAt: typeof rec.startedAt === 'string' ? rec.startedAt : `start ${UNRECORDED}`,
    appVersion: `${rec.app.version} (${rec.app.commit})`,
    host: `${rec.host.hostname} (${rec.host.os}, node ${rec.host.node})`,
    model: {
      fileName: model?.fileName ?? UNRECORDED,
      path: model?.path ?? model?.fileName ?? UNRECORDED,
      fileSize: model?.fileSize ?? 0,
      ...(typeof model?.files === 'number' ? { files: model.files } : {}),
      architecture: typeof model?.architecture === 'string' ? model.architecture : null,
      name: typeof model?.name === 'string' ? model.name : null,
    },
    device: reportDevice(rec),
    backend: check
      ? 'check'
      : (rec.device?.backend ?? (typeof q.backend === 'string' ? q.backend : UNRECORDED)),
    request: {
      batchSizes: q.batchSizes ?? [...new Set(rec.results.map((r) => r.m))],
      seed: q.seed ?? 0,
      timing: q.timing ?? (check ? 'none' : UNRECORDED),
      path: q.path ?? (check ? 'custom' : UNRECORDED),
      threshold: q.threshold ?? null,
      tensors: q.tensors?.length ?? new Set(rec.results.map((r) => r.tensor)).size,
      arithmetic: q.arithmetic ?? null,
      // a verify run's activations as its report names them (kind and seed); a check's as recorded
      activations:
        q.activations === undefined
          ? UNRECORDED
          : check || q.seed === undefined
            ? q.activations
            : describeActivations(q.activations, q.seed),
      ...(Array.isArray(q.userKernels)
        ? { userKernels: q.userKernels as ReportInput['request']['userKernels'] }
        : {}),
    },
    status: rec.status,
    ...(rec.error ? { error: rec.error } : {}),
    results,
    maps,
    ...(rec.devices ? { devices: rec.devices as DeviceRunEntry[] } : {}),
  };
}

/**
 * The record's device as the report prints it: a record made by QuantScope keeps every DeviceInfo
 * field; one that lacks the counts the device line needs gives no device, and its backend line names
 * the device instead.
 */
function reportDevice(rec: RunRecord): DeviceInfo | null {
  const d = rec.device;
  if (!d) return null;
  const info = d as Partial<DeviceInfo>;
  if (typeof info.computeUnits !== 'number' || typeof info.memoryTotal !== 'number') return null;
  return {
    ...info,
    backend: d.backend,
    index: d.index,
    name: d.name,
    arch: d.arch,
    memoryTotal: info.memoryTotal,
    memoryFree: typeof info.memoryFree === 'number' ? info.memoryFree : 0,
    computeUnits: info.computeUnits,
    warpSize: typeof info.warpSize === 'number' ? info.warpSize : 1,
    peakBandwidthGBs: d.peakBandwidthGBs ?? null,
    copyBandwidthGBs: d.copyBandwidthGBs ?? null,
    copyBandwidth: d.copyBandwidth ?? null,
    peakTflops: typeof info.peakTflops === 'number' ? info.peakTflops : null,
    details: info.details && typeof info.details === 'object' ? info.details : {},
  } as DeviceInfo;
}

/** One saved result as the TensorResult the report writes; the record's arithmetic error by its run name. */
function recordResult(rec: RunRecord, r: RunRecord['results'][number], i: number): TensorResult {
  const x = r as unknown as Partial<TensorResult> & typeof r;
  const diagnosis: Diagnosis | null = r.diagnosis
    ? ({
        ...r.diagnosis,
        evidence: Array.isArray(r.diagnosis.evidence) ? (r.diagnosis.evidence as string[]) : [],
      } as Diagnosis)
    : null;
  // the weight map's geometry names the weights of its cells; its grid is in the report's maps
  let weightMap = r.weightMap as TensorResult['weightMap'];
  if (weightMap?.grid) {
    const { grid: _grid, ...geometry } = weightMap;
    weightMap = geometry;
  }
  return {
    ...x,
    ...(weightMap !== undefined ? { weightMap } : {}),
    resultId: `${rec.id}#${i}`,
    runId: rec.id,
    backend: (x.backend ?? rec.device?.backend ?? 'cpu') as TensorResult['backend'],
    device: typeof x.device === 'string' ? x.device : (rec.device?.name ?? '—'),
    path: r.path as TensorResult['path'],
    // a record that did not keep the bar leaves the cell empty ('—'), not NaN
    threshold: r.threshold ?? (undefined as unknown as number),
    metrics: r.metrics
      ? ({
          nanMismatches: 0,
          infMismatches: 0,
          count: 0,
          worst: null,
          ...r.metrics,
        } as TensorResult['metrics'])
      : null,
    timing: r.timing
      ? ({ gbps: 0, tflops: 0, pctPeak: null, pctCopy: null, ...r.timing } as TensorResult['timing'])
      : null,
    unfused: x.unfused ?? null,
    weightBytes: x.weightBytes ?? 0,
    gridAvailable: false,
    elapsedMs: x.elapsedMs ?? 0,
    arithmeticNmse: r.arithmeticError ?? x.arithmeticNmse ?? null,
    diagnosis,
  };
}
