import path from 'node:path';
import { LIMITS, PATH_CHOICES, type RunEvent, type TensorResult } from '../../../../src-shared/contract';
import { isActivationKind } from '../../run/activations';
import { EngineService } from '../../service';
import { samplesDir, sampleModelPath } from '../../paths';
import { countsLine, reportCounts, fmtExp, fmtNum, statusText } from '../../report/report';
import { defaultPoolSize } from '../../workers';
import { checkOutputs, writeOutputChunks } from '../../output-path';
import { ResultSpool } from '../../report/spool';
import { reportChunks, type ReportSource } from '../../report/report';
import { termSafe } from '../term';
import { checkRecordsFolder, recordStoreOption } from '../record-options';
import { CPU_PATHS, CPU_PATH_NOTE } from '../../backends/cpu';
import { compareRecords } from '../../records/compare';
import { RecordStore, defaultRecordsDir } from '../../records/store';
import { formatComparison, toleranceOption } from './compare';
import {
  UsageError,
  choiceOption,
  intListOption,
  intOption,
  reportFormatOf,
  stringOption,
  type CliCommand,
} from '../framework';
import { Progress, StreamedTable, fmtDuration, tableLines, writeLines } from '../table';
import { SCHEME_IDS, isSchemeId } from '../../arithmetic/schemes';
import { allDevicesPass, deviceAnalysisLines, deviceOption } from '../devices-output';
import { resolveDevices } from '../../devices/spec';
import { analyzeDevices, type DeviceResultLike } from '../../../../src-shared/devices';
import { resultDeviceTag } from '../../report/devices-report';

export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'run tensors through a backend and the reference; pass/fail table',
  help: `quantscope verify [<file.gguf>] [--tensors <glob,...>] [--batch 1,8,64] [--backend cpu|cuda|hip] [--device N|all|0,2,5]
                 [--seed N] [--timing none|hot|cold] [--path auto|f32|int8|mma|unfused] [--unfused]
                 [--threshold NMSE] [--arithmetic f32|q8_1|qs8|qs8-mma|bf16|f16]
                 [--activations gaussian|outliers|outliers100|embeddings|<x.f32|x.npy>]
                 [--json <path>] [--report <path.html|.md|.json>]
  Every selected supported tensor at every batch size, against the float64 reference of the kernel
  path's declared arithmetic (docs/arithmetic.md).
  Without a file, verifies the sample model. Exit 0: all pass (results that are "not comparable",
  where blocks with NaN/Inf scales feed some outputs and the rest pass, are printed but do not fail
  the run); 1: any fail or error; 2: bad input.
  --device     the device index (default 0); all: every device of the backend; a list (0,2,5; an
               index may repeat): one worker thread per entry, bound to its device, all in parallel,
               with a verdict per device and the outputs of identical cards compared bit for bit
               (the cpu backend has one device: all is device 0)
  --tensors    comma-separated globs over tensor names (default: all supported tensors)
  --batch      batch sizes m (default 1,8)
  --timing     time each kernel: hot (one weight copy) or cold (rotated copies defeat the L2)
  --unfused    also run and time the unfused baseline (GPU backends)
  --threshold  NMSE bar instead of the kernel bar (1e-8 against the declared arithmetic)
  --arithmetic judge every result by this declared arithmetic (user kernels: or Q4_K_MATMUL_ARITHMETIC ...)
  --activations gaussian (default); outliers: one channel in 128 x20 (outliers100: x100); embeddings:
               rows of the model's token_embd.weight; or a float32 file [rows][k] (.f32 raw or .npy)
               whose values are all finite (a NaN or infinite value is bad input)
  --json       write the full results as JSON;  --report  write a correctness report
  --force      let --json/--report replace an existing model file. Output paths are checked before
               the run (never the model, a folder or a device) and written through a temporary
               file renamed into place
  --records    the folder the run's record is saved in (default: $QS_RECORDS_DIR or
               ~/.config/quantscope/records);  --no-record  do not save one
  --baseline   a record (file, id or latest~N) to compare this run with, found before the run (latest:
               the newest record before this run's): exit 1 on a new failure or a slowdown
               beyond --speed-tolerance (default 5%) and the runs' own spread, or when this run's
               record could not be saved (nothing was compared)`,
  options: {
    tensors: { type: 'string', short: 't' },
    batch: { type: 'string' },
    backend: { type: 'string', short: 'b' },
    device: { type: 'string' },
    seed: { type: 'string' },
    timing: { type: 'string' },
    path: { type: 'string' },
    unfused: { type: 'boolean' },
    threshold: { type: 'string' },
    arithmetic: { type: 'string' },
    activations: { type: 'string' },
    json: { type: 'string' },
    report: { type: 'string' },
    force: { type: 'boolean', short: 'f' },
    records: { type: 'string' },
    'no-record': { type: 'boolean' },
    baseline: { type: 'string' },
    'speed-tolerance': { type: 'string' },
  },
  maxPositionals: 1,
  async run(ctx) {
    const p = ctx.positionals[0] ?? sampleModelPath();
    const batchSizes = intListOption(ctx.values, 'batch', [1, 8], 1, LIMITS.maxBatch);
    const backendName = choiceOption(ctx.values, 'backend', ['cpu', 'cuda', 'hip'] as const, 'cpu');
    const deviceSpec = deviceOption(ctx.values);
    const seed = intOption(ctx.values, 'seed', 1, 0, 0xffffffff);
    const timing = choiceOption(ctx.values, 'timing', ['none', 'hot', 'cold'] as const, 'none');
    const pathChoice = choiceOption(ctx.values, 'path', PATH_CHOICES, 'auto');
    if (backendName === 'cpu' && !CPU_PATHS.includes(pathChoice))
      throw new UsageError(`--path ${pathChoice}: ${CPU_PATH_NOTE}`);
    const thrStr = stringOption(ctx.values, 'threshold');
    let threshold: number | null = null;
    if (thrStr !== undefined) {
      threshold = Number(thrStr);
      if (!Number.isFinite(threshold) || threshold <= 0)
        throw new UsageError(`--threshold must be a positive number, got '${thrStr}'`);
    }
    const arithmetic = stringOption(ctx.values, 'arithmetic') ?? null;
    if (arithmetic !== null && !isSchemeId(arithmetic))
      throw new UsageError(
        `--arithmetic: unknown arithmetic '${arithmetic}' (one of ${SCHEME_IDS.join(', ')})`,
      );
    const activationsSpec = stringOption(ctx.values, 'activations') ?? 'gaussian';
    const jsonPath = stringOption(ctx.values, 'json');
    const reportPath = stringOption(ctx.values, 'report');
    const reportFormat = reportPath ? reportFormatOf(reportPath) : null;
    const recordsDir = stringOption(ctx.values, 'records');
    // the baseline is found before the run: a missing one is bad input, not a late surprise
    const baselineRef = stringOption(ctx.values, 'baseline');
    const baselineStore = new RecordStore(recordsDir ?? defaultRecordsDir());
    const baselineFile = baselineRef ? baselineStore.locate(baselineRef) : null;
    const outputs = await checkOutputs(
      [
        ...(jsonPath ? [{ option: '--json', path: jsonPath }] : []),
        ...(reportPath ? [{ option: '--report', path: reportPath }] : []),
      ],
      {
        // the model, an activations file and a baseline record are read: never written
        inputs: [
          p,
          ...(isActivationKind(activationsSpec) ? [] : [activationsSpec]),
          ...(baselineFile ? [baselineFile] : []),
        ],
        force: Boolean(ctx.values.force),
      },
    );
    const jsonOut = outputs.find((o) => o.option === '--json');
    const records = recordStoreOption(ctx.values);
    const tolerance = toleranceOption(ctx.values);
    if (baselineRef && !records)
      throw new UsageError("--baseline compares this run's record: it cannot go with --no-record");
    // the comparison needs the saved record, wherever the folder came from
    if (baselineRef && records) checkRecordsFolder(records, `the records folder ${records.dir}`);
    // read before the run too: a damaged one is bad input
    const baseline = baselineFile ? baselineStore.readFile(baselineFile) : null;
    const reportOut = outputs.find((o) => o.option === '--report');

    // The run goes through the engine service like the app's: same selection, validation, run and
    // report. Only files the user names are opened, so nothing restricts paths.
    const engine = new EngineService({
      mode: 'cli',
      samplesDir: samplesDir(),
      modelDirs: [],
      restrictToDirs: false,
      workerThreads: defaultPoolSize(),
      // outputs are kept (up to the service's default budget) while a part's heatmaps and weight
      // maps are drawn for the record and the report; with neither, nothing needs them
      outputCacheBytes: records || reportOut || jsonOut ? undefined : 0,
      records,
    });
    try {
      const status = await engine.backendStatus(backendName);
      if (!status.available)
        throw new UsageError(`backend ${backendName} is unavailable: ${status.reason ?? 'unknown reason'}`);
      let devices: number[];
      try {
        devices = resolveDevices(deviceSpec, status.devices.length, backendName);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const multi = deviceSpec.kind !== 'one';

      const model = await engine.openModel(p);
      const spec = stringOption(ctx.values, 'tensors');
      const globs = spec
        ?.split(',')
        .map((g) => g.trim())
        .filter(Boolean);
      if (globs && globs.length === 0)
        throw new UsageError(
          `--tensors '${termSafe(spec!)}': an empty pattern (give names or globs, comma-separated)`,
        );
      // every pattern must select something: a typo in one of several is not silently dropped
      for (const g of globs && globs.length > 1 ? globs : []) {
        const hit = engine.selectTensors(model.modelId, g);
        if (hit.supported.length + hit.unsupported.length === 0)
          throw new UsageError(`--tensors: '${termSafe(g)}' matches no tensor in ${path.basename(p)}`);
      }
      const { supported, unsupported } = engine.selectTensors(model.modelId, spec);
      if (supported.length + unsupported.length === 0)
        throw new UsageError(
          spec === undefined
            ? `${path.basename(p)} has no tensors`
            : `--tensors ${termSafe(spec)}: no tensor in ${path.basename(p)} matches`,
        );
      for (const t of unsupported)
        ctx.stderr.write(
          `skipped ${termSafe(t.name)}: ${termSafe(t.unsupportedReason ?? `${t.typeName} is not supported`)}\n`,
        );
      if (supported.length === 0) throw new UsageError('none of the selected tensors has a supported type');

      // More tensors than one run may name (LIMITS.tensorsPerRun) run as successive parts; every
      // output below is written part by part, so memory stays that of one part.
      const partSize = partSizeFor(process.env);
      const totalJobs = supported.length * new Set(batchSizes).size * (multi ? devices.length : 1);
      // in parts, the widths known beforehand hold the columns: tensor (with its device), type,
      // shape, m (one part sizes the table from its rows alone)
      const tagWidth = multi
        ? 3 +
          maxWidth(devices, (index, slot) =>
            resultDeviceTag({ slot, deviceIndex: index, backend: backendName }),
          )
        : 0;
      const table = new StreamedTable(
        ctx.stdout,
        RESULT_HEAD,
        RESULT_NUMERIC,
        supported.length > partSize
          ? [
              maxWidth(supported, (t) => t.name) + tagWidth,
              maxWidth(supported, (t) => t.typeName),
              maxWidth(supported, (t) => `${t.n}×${t.k}`),
              maxWidth(batchSizes, (m) => String(m)),
            ]
          : [],
      );
      let counts = reportCounts([]);
      const spool = jsonOut || reportOut ? ResultSpool.create() : null;
      let notes = null as ResultSpool | null; // results with a note to print after the table
      const forDevices: DeviceResultLike[] = [];
      let done = 0;
      const started = performance.now();
      const progress = new Progress(ctx.stderr);
      const off = engine.onRunEvent((ev: RunEvent) => {
        if (ev.type === 'job-started')
          progress.update(`[${done + ev.index + 1}/${totalJobs}] ${ev.tensor} m=${ev.m}`, true);
        else if (ev.type === 'progress') {
          const now = done + ev.done;
          const eta = ((performance.now() - started) * (totalJobs - now)) / Math.max(1, now);
          progress.update(`[${now}/${totalJobs}] eta ${fmtDuration(eta)}`, true);
        }
      });
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      let outcome;
      try {
        outcome = await engine.runInParts(
          {
            modelId: model.modelId,
            tensors: supported.map((t) => t.name),
            batchSizes,
            backend: backendName,
            deviceIndex: devices[0],
            ...(multi ? { devices } : {}),
            seed,
            timing,
            path: pathChoice,
            compareUnfused: Boolean(ctx.values.unfused),
            threshold,
            arithmetic,
            activations: activationsSpec,
          },
          {
            partSize,
            signal: abort.signal,
            onPart: (results) => {
              progress.done();
              table.write(resultsRows(results));
              const noted = results.filter((r) => r.notComparable || r.diagnosis);
              if (noted.length > 0) (notes ??= ResultSpool.create()).append(noted);
              spool?.append(results);
              if (multi) for (const r of results) forDevices.push(deviceFacts(r));
              counts = addCounts(counts, reportCounts(results));
              done += results.length;
            },
          },
        );
      } catch (e) {
        spool?.close();
        notes?.close();
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
        off();
        progress.done();
      }
      try {
        table.end();
        if (notes) {
          for (const r of notes)
            if (r.notComparable)
              ctx.stdout.write(
                `not comparable ${termSafe(r.tensor)} m=${r.m}: ${termSafe(r.notComparable)}\n`,
              );
          for (const r of notes)
            if (r.diagnosis)
              ctx.stdout.write(
                `diagnosis ${termSafe(r.tensor)} m=${r.m}: ${r.diagnosis.class}: ${termSafe(r.diagnosis.sentence)}\n`,
              );
        }
        const analysis = outcome.devices ? analyzeDevices(outcome.devices, forDevices) : null;
        if (analysis) writeLines(ctx.stdout, deviceAnalysisLines(analysis));
        const c = counts;
        const dev = outcome.devices
          ? `${backendName} devices ${outcome.devices.map((d) => d.index).join(',')}`
          : outcome.device
            ? `${outcome.device.backend}:${outcome.device.index} ${outcome.device.name}`
            : backendName;
        ctx.stdout.write(
          `\n${countsLine(c)} on ${dev}` +
            (outcome.status !== 'done'
              ? ` (run ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''})`
              : '') +
            '\n',
        );
        if (spool) {
          const src: ReportSource = { input: outcome.report, results: spool, stats: spool.stats, analysis };
          if (jsonOut) await writeOutputChunks(jsonOut, reportChunks(src, 'json'));
          if (reportOut && reportFormat) {
            await writeOutputChunks(reportOut, reportChunks(src, reportFormat));
            ctx.stderr.write(`report written to ${termSafe(reportOut.path)}\n`);
          }
        }
        if (outcome.recordFile) ctx.stderr.write(`record saved: ${termSafe(outcome.recordFile)}\n`);
        else if (outcome.recordError)
          ctx.stderr.write(`record not saved: ${termSafe(outcome.recordError)}\n`);
        // a device that failed is that device's error: the others' results are reported above
        if (outcome.status === 'failed' && !analysis) throw new Error(outcome.error ?? 'run failed');
        let regressed = false;
        if (baseline && records && outcome.recordFile) {
          const cmp = compareRecords(baseline, records.readFile(outcome.recordFile), tolerance);
          ctx.stdout.write('\n' + formatComparison(cmp));
          regressed = cmp.regressed;
        } else if (baseline) {
          // a gate that could not compare must not pass
          ctx.stdout.write("\nnot compared with the baseline: this run's record was not saved\n");
          regressed = true;
        }
        const devicesOk = analysis ? allDevicesPass(analysis) : true;
        return c.failed === 0 && c.errors === 0 && outcome.status === 'done' && devicesOk && !regressed
          ? 0
          : 1;
      } finally {
        spool?.close();
        notes?.close();
      }
    } finally {
      await engine.dispose();
    }
  },
};

/**
 * The run's part size: LIMITS.tensorsPerRun, or fewer where QS_TENSORS_PER_RUN asks (a positive
 * integer; it never raises the cap). Tests use it to split a small model.
 */
export function partSizeFor(env: NodeJS.ProcessEnv): number {
  const v = env.QS_TENSORS_PER_RUN;
  if (v === undefined || v === '') return LIMITS.tensorsPerRun;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`QS_TENSORS_PER_RUN must be a positive integer, got '${v}'`);
  return Math.min(n, LIMITS.tensorsPerRun);
}

/** The widest cell of a column, as the terminal shows it. */
function maxWidth<T>(items: readonly T[], cell: (t: T, i: number) => string): number {
  let w = 0;
  items.forEach((t, i) => (w = Math.max(w, termSafe(cell(t, i)).length)));
  return w;
}

function addCounts(
  a: ReturnType<typeof reportCounts>,
  b: ReturnType<typeof reportCounts>,
): ReturnType<typeof reportCounts> {
  return {
    total: a.total + b.total,
    passed: a.passed + b.passed,
    failed: a.failed + b.failed,
    errors: a.errors + b.errors,
    notComparable: a.notComparable + b.notComparable,
  };
}

/** What the device analysis reads of a result, without the rest of it. */
function deviceFacts(r: TensorResult): DeviceResultLike {
  return {
    ...(r.slot !== undefined ? { slot: r.slot } : {}),
    tensor: r.tensor,
    m: r.m,
    status: r.status,
    ...(r.outputHash ? { outputHash: r.outputHash } : {}),
    timing: r.timing ? { medianUs: r.timing.medianUs } : null,
  };
}

export function resultsTable(results: TensorResult[]): string {
  return tableLines(RESULT_HEAD, resultsRows(results), RESULT_NUMERIC).join('\n') + '\n';
}

const RESULT_HEAD = [
  'tensor',
  'type',
  'n×k',
  'm',
  'result',
  'NMSE',
  'max abs',
  'max rel',
  'path',
  'arithmetic',
  'arith. NMSE',
  'µs',
  'GB/s',
  '%peak',
];
const RESULT_NUMERIC = [
  false,
  false,
  false,
  true,
  false,
  true,
  true,
  true,
  false,
  false,
  true,
  true,
  true,
  true,
];

function resultsRows(results: readonly TensorResult[]): string[][] {
  return results.map((r) => [
    resultDeviceTag(r) ? `${r.tensor} @ ${resultDeviceTag(r)}` : r.tensor,
    r.type,
    `${r.n}×${r.k}`,
    String(r.m),
    r.status === 'error' ? `ERROR ${r.error ?? ''}` : statusText(r),
    fmtExp(r.metrics?.nmse),
    fmtExp(r.metrics?.maxAbsErr),
    fmtExp(r.metrics?.maxRelErr),
    r.path ?? '-',
    r.arithmetic ?? '-',
    fmtExp(r.arithmeticNmse),
    fmtNum(r.timing?.medianUs, 1),
    fmtNum(r.timing?.gbps, 1),
    r.timing?.pctPeak == null ? '—' : fmtNum(r.timing.pctPeak, 0),
  ]);
}
