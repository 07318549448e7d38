/**
 * Making a record from a finished run, and saving it where the user keeps them. Every face (the
 * engine service behind the app and the browser mode, and the CLI's verify, check, bench and selftest)
 * builds its record here, so records look the same whoever made them.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import type { CopyBandwidthMeasurement, SavedHeatmap, SavedWeightGrid } from '../../../src-shared/contract';
import { errorGrid } from '../compare';
import type { GgufFile } from '../gguf';
import type { SelftestRow } from '../selftest';
import { APP_COMMIT, APP_VERSION } from '../version';
import { RECORD_SCHEMA, RECORD_VERSION, type RecordKind, type RecordResult, type RunRecord } from './schema';
import type { DeviceRunEntry } from '../../../src-shared/devices';
import { RecordStore, defaultRecordsDir, newRecordId } from './store';

const CHUNK = 16 << 20;

/**
 * sha256 over the tensors' names, types, shapes and bytes, in name order: the same value for the
 * same weights whatever the file is called or where the tensors sit in it. Streams 16 MiB at a time.
 */
export async function tensorsHash(file: GgufFile, names: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const name of [...new Set(names)].sort()) {
    const t = file.tensor(name);
    h.update(`${t.name}\u0000${t.typeName}\u0000${t.dims.join('x')}\u0000`);
    if (t.nbytes === 0) continue;
    const rb = t.nbytes / t.n;
    const rowsPerChunk = Math.max(1, Math.floor(CHUNK / rb));
    for (let r = 0; r < t.n; r += rowsPerChunk)
      h.update(await file.readRows(t, r, Math.min(rowsPerChunk, t.n - r)));
  }
  return h.digest('hex');
}

export interface RecordDevice {
  backend: string;
  index: number;
  name: string;
  arch: string;
  peakBandwidthGBs?: number | null;
  copyBandwidthGBs?: number | null;
  copyBandwidth?: CopyBandwidthMeasurement | null;
  details?: Record<string, string>;
}

export function buildRecord(args: {
  kind: RecordKind;
  createdAt?: Date;
  device: RecordDevice | null;
  model: RunRecord['model'];
  request: RunRecord['request'];
  status: string;
  error?: string;
  results: RecordResult[];
  bench?: RunRecord['bench'];
  selftest?: RunRecord['selftest'];
  /** a run over several devices: each device's part (docs/records.md) */
  devices?: readonly DeviceRunEntry[];
  extra?: Record<string, unknown>;
}): RunRecord {
  const created = args.createdAt ?? new Date();
  const d = args.device;
  return {
    schema: RECORD_SCHEMA,
    version: RECORD_VERSION,
    id: newRecordId(args.kind, created),
    kind: args.kind,
    createdAt: created.toISOString(),
    app: { version: APP_VERSION, commit: APP_COMMIT },
    host: {
      os: `${os.type()} ${os.release()} (${process.platform}-${process.arch})`,
      hostname: os.hostname(),
      node: process.version,
    },
    device: d
      ? {
          ...d,
          copyBandwidth: d.copyBandwidth ? { ...d.copyBandwidth } : null,
          driverVersion: d.details?.driverVersion ?? null,
          runtimeVersion: d.details?.runtimeVersion ?? null,
        }
      : null,
    model: args.model,
    request: args.request,
    status: args.status,
    ...(args.error ? { error: args.error } : {}),
    results: args.results,
    ...(args.bench ? { bench: args.bench } : {}),
    ...(args.selftest ? { selftest: args.selftest } : {}),
    ...(args.devices ? { devices: args.devices.map((d) => ({ ...d })) } : {}),
    ...args.extra,
  };
}

/**
 * Where records go: nowhere with --no-record; the --records folder when one is named (an explicit
 * folder wins over QS_NO_RECORD=1); else nowhere with QS_NO_RECORD=1; else QS_RECORDS_DIR or the
 * default folder.
 */
export function recordStoreFor(opts: { dir?: string; disabled?: boolean }): RecordStore | null {
  if (opts.disabled) return null;
  if (opts.dir) return new RecordStore(opts.dir);
  if (process.env.QS_NO_RECORD === '1') return null;
  return new RecordStore(defaultRecordsDir());
}

/** JSON has no NaN or infinity: such a value is kept as null (the status says what happened). */
function finite(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/** The record of a selftest (the CLI's and the app's): its request and every case. */
export function buildSelftestRecord(a: {
  backend: string;
  deviceIndex: number;
  quick: boolean;
  seed: number;
  formats?: string[];
  device: RecordDevice | null;
  /** a selftest over several devices: each device's part; rows then carry slot and deviceIndex */
  devices?: readonly DeviceRunEntry[];
  rows: readonly (SelftestRow & { slot?: number; deviceIndex?: number })[];
  status: string;
  error?: string;
}): RunRecord {
  return buildRecord({
    kind: 'selftest',
    device: a.device,
    ...(a.devices ? { devices: a.devices } : {}),
    model: null,
    request: {
      backend: a.backend,
      deviceIndex: a.deviceIndex,
      quick: a.quick,
      seed: a.seed,
      ...(a.formats ? { formats: a.formats } : {}),
    },
    status: a.status,
    ...(a.error ? { error: a.error } : {}),
    results: [],
    selftest: {
      backend: a.backend,
      quick: a.quick,
      seed: a.seed,
      rows: a.rows.map((r) => ({
        format: r.format,
        n: r.n,
        k: r.k,
        m: r.m,
        weights: r.weights,
        requested: r.requested,
        path: r.path,
        status: r.result,
        nmse: finite(r.nmse),
        threshold: r.threshold,
        arithmetic: r.arithmetic ?? null,
        arithmeticError: finite(r.arithmeticNmse),
        diagnosis: r.diagnosis ? { class: r.diagnosis.class, sentence: r.diagnosis.sentence } : null,
        detail: r.detail,
        ms: r.ms,
        ...(r.slot !== undefined ? { slot: r.slot, deviceIndex: r.deviceIndex } : {}),
        ...(r.outputHash ? { outputHash: r.outputHash } : {}),
      })),
    },
  });
}

/**
 * The most results one record keeps. A run with more (a model of 10^6 tensors, or tens of thousands
 * of tensors at many batch sizes) keeps every result that is not a pass, up to this number, then
 * its first passes in run order, and counts the rest by verdict in `omittedResults`: the file stays
 * a few tens of MB and reads back, and what it left out can only be a pass unless it says otherwise.
 */
export const RECORD_RESULTS = 50_000;

export interface OmittedResults {
  pass: number;
  fail: number;
  error: number;
  notComparable: number;
}

/**
 * The results a record keeps (RECORD_RESULTS), chosen as they arrive: at most `max` rows are held
 * at any time, so a run of any length is recorded in bounded memory.
 */
export class RecordResults<T extends { status: string }> {
  private seq = 0;
  /** results that are not a pass, with their place in the run */
  private readonly others: { seq: number; row: T }[] = [];
  /** the first passes, as many as fit beside the others */
  private readonly passes: { seq: number; row: T }[] = [];
  private readonly seen: OmittedResults = { pass: 0, fail: 0, error: 0, notComparable: 0 };

  constructor(private readonly max = RECORD_RESULTS) {}

  add(row: T): void {
    const seq = this.seq++;
    const key = statusKey(row.status);
    this.seen[key]++;
    if (key === 'pass') {
      if (this.others.length + this.passes.length < this.max) this.passes.push({ seq, row });
    } else if (this.others.length < this.max) {
      this.others.push({ seq, row });
      if (this.others.length + this.passes.length > this.max) this.passes.pop();
    }
  }

  /** The kept rows, in run order. */
  rows(): T[] {
    const out: T[] = [];
    let i = 0;
    let j = 0;
    while (i < this.others.length || j < this.passes.length) {
      const a = this.others[i];
      const b = this.passes[j];
      if (b === undefined || (a !== undefined && a.seq < b.seq)) {
        out.push(a.row);
        i++;
      } else {
        out.push(b.row);
        j++;
      }
    }
    return out;
  }

  /** The results left out, by verdict; null when every result is kept. */
  omitted(): OmittedResults | null {
    const kept: OmittedResults = { pass: this.passes.length, fail: 0, error: 0, notComparable: 0 };
    for (const o of this.others) kept[statusKey(o.row.status)]++;
    const out: OmittedResults = {
      pass: this.seen.pass - kept.pass,
      fail: this.seen.fail - kept.fail,
      error: this.seen.error - kept.error,
      notComparable: this.seen.notComparable - kept.notComparable,
    };
    return out.pass + out.fail + out.error + out.notComparable > 0 ? out : null;
  }
}

function statusKey(status: string): keyof OmittedResults {
  if (status === 'pass' || status === 'fail' || status === 'error') return status;
  return 'notComparable';
}

/** The most results of one record that keep a heatmap (failures first), and a heatmap's size. */
export const SAVED_HEATMAPS = 200;
const HEAT_ROWS = 16;
const HEAT_COLS = 128;

const sig4 = (v: number) => (Number.isFinite(v) && v !== 0 ? Number(v.toPrecision(4)) : v);

/**
 * One metric of an output's error heatmap: the whole output reduced by maximum to at most 16 x 128
 * cells. Output features in `skipCols` (a not-comparable result's: outputs of weight rows with
 * non-finite block scales) are left out as the live heatmap leaves them out, and counted per column
 * in `leftOutCols`, so History and the report mark them. Rows in `skipRows` (a weight map's weight
 * rows with non-finite block scales) are left out alike and counted per row in `leftOutRows`.
 */
export function savedHeatmap(
  ref: Float64Array,
  got: Float32Array,
  m: number,
  n: number,
  metric: 'abs' | 'rel',
  skipCols?: Uint8Array | null,
  skipRows?: Uint8Array | null,
): SavedHeatmap {
  const g = errorGrid(ref, got, m, n, {
    maxRows: Math.min(HEAT_ROWS, m),
    maxCols: Math.min(HEAT_COLS, n),
    metric,
    skipCols,
    skipRows,
  });
  return {
    m,
    n,
    rows: g.rows,
    cols: g.cols,
    cellRows: g.cellRows,
    cellCols: g.cellCols,
    values: g.values.map(sig4),
    min: g.min,
    max: g.max,
    ...(g.leftOutCols ? { leftOutCols: g.leftOutCols } : {}),
    ...(g.leftOutRows ? { leftOutRows: g.leftOutRows } : {}),
  };
}

/** The error heatmap of one output for its record, in both metrics, values to 4 significant digits. */
export function savedHeatmaps(
  ref: Float64Array,
  got: Float32Array,
  m: number,
  n: number,
  skipCols?: Uint8Array | null,
): { abs: SavedHeatmap; rel: SavedHeatmap } {
  return {
    abs: savedHeatmap(ref, got, m, n, 'abs', skipCols),
    rel: savedHeatmap(ref, got, m, n, 'rel', skipCols),
  };
}

/** A weight map's probed weights: rows = weight rows, columns = probed elements (probeAsWeights). */
export interface ProbedWeights {
  ref: Float64Array;
  got: Float32Array;
  m: number;
  n: number;
  skipRows?: Uint8Array | null;
}

/**
 * One metric of a weight map as records and reports keep it: the probed weights (weight rows x
 * probed elements) reduced by maximum to at most 16 x 128 cells, as the output heatmap is. A cell's
 * value is the largest error of its weights (abs: |decoded − expected|; rel: that over the largest
 * |expected| of the weight row, as the app's map draws it), so no bad weight hides; the weight rows
 * in `skipRows` (non-finite block scales) are in no cell's value and are counted per cell row in
 * `leftOutRows`; a cell of only such rows is 0 and in neither min nor max.
 */
export function savedWeightMap(w: ProbedWeights, metric: 'abs' | 'rel'): SavedHeatmap {
  return savedHeatmap(w.ref, w.got, w.m, w.n, metric, null, w.skipRows);
}

/** A FAIL's weight map for its record (WeightMapInfo.grid): both metrics, values to 4 significant digits. */
export function savedWeightGrid(w: ProbedWeights): SavedWeightGrid {
  return { abs: savedWeightMap(w, 'abs'), rel: savedWeightMap(w, 'rel') };
}

/**
 * What the HTML report draws inline for one result: its error heatmap (the outputs in `o.skipCols`
 * left out and counted) and, where an identity probe left the weights as the kernel decoded them, the
 * weight map (the weight rows in `w.skipRows`, which feed those outputs, left out and counted; both
 * in absolute error).
 */
export function reportMaps(
  o: { ref: Float64Array; got: Float32Array; m: number; n: number; skipCols?: Uint8Array | null },
  w: ProbedWeights | null,
): { heatmap: SavedHeatmap; weights?: SavedHeatmap } {
  // the weight map is the record's abs grid (savedWeightGrid), so a report made from the record draws the same
  return {
    heatmap: savedHeatmap(o.ref, o.got, o.m, o.n, 'abs', o.skipCols),
    ...(w ? { weights: savedWeightMap(w, 'abs') } : {}),
  };
}
