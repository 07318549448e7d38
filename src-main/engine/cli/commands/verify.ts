import os from 'node:os';
import path from 'node:path';
import { GgufFile } from '../../gguf';
import { backendFor } from '../../backends';
import { executeRun } from '../../run/runner';
import { sampleModelPath } from '../../paths';
import {
  renderReport,
  reportCounts,
  reportJson,
  fmtExp,
  fmtNum,
  type ReportInput,
} from '../../report/report';
import {
  checkOutputs,
  handleSink,
  openOutput,
  writeOutputAtomic,
  type CheckedOutput,
} from '../../output-path';
import { writeJson } from '../../json-stream';
import { termSafe } from '../term';
import { APP_VERSION } from '../../version';
import type { RunRequest, TensorResult } from '../../../../src-preload/api';
import {
  UsageError,
  choiceOption,
  intListOption,
  intOption,
  stringOption,
  type CliCommand,
} from '../framework';
import { Progress, fmtDuration, globMatcher, tableLines, writeLines } from '../table';
import { PATH_CHOICES } from '../../../../src-preload/api';

export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'run tensors through a backend and the reference; pass/fail table',
  help: `quantscope verify [<file.gguf>] [--tensors <glob,...>] [--batch 1,8,64] [--backend cpu|cuda|hip] [--device N]
                 [--seed N] [--timing none|hot|cold] [--path auto|f32|int8|mma|unfused] [--unfused]
                 [--threshold NMSE] [--json <path>] [--report <path.html|.md|.json>]
  Every selected supported tensor at every batch size, against the float64 reference.
  Without a file, verifies the sample model. Exit 0: all pass; 1: any fail or error; 2: bad input.
  --tensors    comma-separated globs over tensor names (default: all supported tensors)
  --batch      batch sizes m (default 1,8)
  --timing     time each kernel: hot (one weight copy) or cold (rotated copies defeat the L2)
  --unfused    also run and time the unfused baseline (GPU backends)
  --threshold  NMSE bar instead of the path's own (float32 accumulation 1e-8, half precision 5e-4)
  --json       write the full results as JSON;  --report  write a correctness report
  --force      let --json/--report replace an existing model file. Output paths are checked before
               the run (never the model, a folder or a device) and written through a temporary
               file renamed into place`,
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
    json: { type: 'string' },
    report: { type: 'string' },
    force: { type: 'boolean', short: 'f' },
  },
  maxPositionals: 1,
  async run(ctx) {
    const p = ctx.positionals[0] ?? sampleModelPath();
    const batchSizes = intListOption(ctx.values, 'batch', [1, 8], 1, 65536);
    const backendName = choiceOption(ctx.values, 'backend', ['cpu', 'cuda', 'hip'] as const, 'cpu');
    const deviceIndex = intOption(ctx.values, 'device', 0, 0, 64);
    const seed = intOption(ctx.values, 'seed', 1, 0, 0xffffffff);
    const timing = choiceOption(ctx.values, 'timing', ['none', 'hot', 'cold'] as const, 'none');
    const pathChoice = choiceOption(ctx.values, 'path', PATH_CHOICES, 'auto');
    const thrStr = stringOption(ctx.values, 'threshold');
    let threshold: number | null = null;
    if (thrStr !== undefined) {
      threshold = Number(thrStr);
      if (!Number.isFinite(threshold) || threshold <= 0)
        throw new UsageError(`--threshold must be a positive number, got '${thrStr}'`);
    }
    const jsonPath = stringOption(ctx.values, 'json');
    const reportPath = stringOption(ctx.values, 'report');
    const reportFormat = reportPath ? formatOf(reportPath) : null;
    const outputs = await checkOutputs(
      [
        ...(jsonPath ? [{ option: '--json', path: jsonPath }] : []),
        ...(reportPath ? [{ option: '--report', path: reportPath }] : []),
      ],
      { inputs: [p], force: Boolean(ctx.values.force) },
    );
    const jsonOut = outputs.find((o) => o.option === '--json');
    const reportOut = outputs.find((o) => o.option === '--report');

    const backend = backendFor(backendName);
    const status = await backend.status();
    if (!status.available)
      throw new UsageError(`backend ${backendName} is unavailable: ${status.reason ?? 'unknown reason'}`);
    if (deviceIndex >= status.devices.length)
      throw new UsageError(`--device ${deviceIndex}: ${backendName} has ${status.devices.length} device(s)`);

    const file = await GgufFile.open(p);
    try {
      const spec = stringOption(ctx.values, 'tensors');
      const match = spec ? globMatcher(spec) : () => true;
      const selected = file.header.tensors.filter((t) => match(t.name));
      if (selected.length === 0)
        throw new UsageError(`--tensors ${spec}: no tensor in ${path.basename(p)} matches`);
      const skipped = selected.filter((t) => !t.supported);
      const tensors = selected.filter((t) => t.supported);
      for (const t of skipped)
        ctx.stderr.write(
          `skipped ${termSafe(t.name)}: ${termSafe(t.unsupportedReason ?? `${t.typeName} is not supported`)}\n`,
        );
      if (tensors.length === 0) throw new UsageError('none of the selected tensors has a supported type');

      const request: RunRequest = {
        modelId: p,
        tensors: tensors.map((t) => t.name),
        batchSizes,
        backend: backendName,
        deviceIndex,
        seed,
        timing,
        path: pathChoice,
        compareUnfused: Boolean(ctx.values.unfused),
        threshold,
      };
      const progress = new Progress(ctx.stderr);
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      const startedAt = new Date().toISOString();
      let outcome;
      try {
        outcome = await executeRun({
          runId: `cli-${process.pid}`,
          file,
          tensors,
          batchSizes,
          backend,
          deviceIndex,
          seed,
          timing,
          path: pathChoice,
          compareUnfused: Boolean(ctx.values.unfused),
          threshold,
          request,
          signal: abort.signal,
          onEvent: (ev) => {
            if (ev.type === 'job-started')
              progress.update(`[${ev.index + 1}/${ev.total}] ${ev.tensor} m=${ev.m}`, true);
            else if (ev.type === 'progress')
              progress.update(`[${ev.done}/${ev.total}] eta ${fmtDuration(ev.etaMs)}`, true);
          },
        });
      } finally {
        process.off('SIGINT', onSigint);
        progress.done();
      }
      const results = outcome.results;
      writeLines(ctx.stdout, resultsTableLines(results));
      const c = reportCounts(results);
      const dev = outcome.device
        ? `${outcome.device.backend}:${outcome.device.index} ${outcome.device.name}`
        : backendName;
      ctx.stdout.write(
        `\n${c.passed} passed, ${c.failed} failed, ${c.errors} errors of ${c.total} on ${dev}` +
          (outcome.status !== 'done'
            ? ` (run ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''})`
            : '') +
          '\n',
      );
      const input: ReportInput = {
        runId: `cli-${process.pid}`,
        createdAt: new Date().toISOString(),
        startedAt,
        appVersion: APP_VERSION,
        host: `${os.hostname()} (${process.platform}-${process.arch}, node ${process.version})`,
        model: {
          fileName: path.basename(p),
          path: path.resolve(p),
          fileSize: file.header.fileSize,
          architecture: metaStr(file, 'general.architecture'),
          name: metaStr(file, 'general.name'),
        },
        device: outcome.device,
        backend: backendName,
        request: { batchSizes, seed, timing, path: pathChoice, threshold, tensors: tensors.length },
        status: outcome.status,
        error: outcome.error,
        results,
      };
      if (jsonOut) await writeJsonOutput(jsonOut, reportJson(input));
      if (reportOut && reportFormat) {
        if (reportFormat === 'json') await writeJsonOutput(reportOut, reportJson(input));
        else await writeOutputAtomic(reportOut, renderReport(input, reportFormat));
        ctx.stderr.write(`report written to ${termSafe(reportOut.path)}\n`);
      }
      if (outcome.status === 'failed') throw new Error(outcome.error ?? 'run failed');
      return c.failed === 0 && c.errors === 0 && outcome.status === 'done' ? 0 : 1;
    } finally {
      await file.close();
    }
  },
};

function metaStr(file: GgufFile, key: string): string | null {
  const e = file.header.metadata.find((x) => x.key === key);
  return e && typeof e.value === 'string' ? e.value : null;
}

function formatOf(p: string): 'html' | 'md' | 'json' {
  const ext = path.extname(p).toLowerCase();
  if (ext === '.html' || ext === '.htm') return 'html';
  if (ext === '.md') return 'md';
  if (ext === '.json') return 'json';
  throw new UsageError(`--report ${p}: use a .html, .md or .json file name`);
}

export function resultsTable(results: TensorResult[]): string {
  return resultsTableLines(results).join('\n') + '\n';
}

/** Streamed JSON through a temporary file renamed into place (no whole-report string). */
async function writeJsonOutput(out: CheckedOutput, value: unknown): Promise<void> {
  const o = await openOutput(out);
  try {
    const sink = handleSink(o);
    await writeJson(sink, value);
    await sink.flush();
    await o.commit();
  } finally {
    await o.discard();
  }
}

function resultsTableLines(results: TensorResult[]): string[] {
  return tableLines(
    ['tensor', 'type', 'n×k', 'm', 'result', 'NMSE', 'max abs', 'max rel', 'path', 'µs', 'GB/s', '%peak'],
    results.map((r) => [
      r.tensor,
      r.type,
      `${r.n}×${r.k}`,
      String(r.m),
      r.status === 'error' ? `ERROR ${r.error ?? ''}` : r.status.toUpperCase(),
      fmtExp(r.metrics?.nmse),
      fmtExp(r.metrics?.maxAbsErr),
      fmtExp(r.metrics?.maxRelErr),
      r.path ?? '-',
      fmtNum(r.timing?.medianUs, 1),
      fmtNum(r.timing?.gbps, 1),
      r.timing?.pctPeak == null ? '—' : fmtNum(r.timing.pctPeak, 0),
    ]),
    [false, false, false, true, false, true, true, true, false, true, true, true],
  );
}
