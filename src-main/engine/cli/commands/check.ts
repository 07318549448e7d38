/**
 * `quantscope check`: judges an output produced anywhere (another framework, a kernel run elsewhere)
 * against the reference of its declared arithmetic: the same metrics, verdict, heatmap data and
 * diagnosis as a verify result. With `--input identity` the activations are the k x k identity, so the
 * output is the weights as that kernel dequantizes them and every wrong weight is located.
 */
import os from 'node:os';
import path from 'node:path';
import { GgufFile } from '../../gguf';
import { SCHEMES, SCHEME_IDS, isSchemeId } from '../../arithmetic/schemes';
import { errorGrid } from '../../compare';
import { PairInputError, judgePair } from '../../run/check-pair';
import { renderReport, fmtExp } from '../../report/report';
import { APP_VERSION } from '../../version';
import { oneLine } from '../../../../src-shared/contract';
import { fmtNmse, fmtThreshold } from '../../../../src-shared/threshold';
import { UsageError, intOption, stringOption, type CliCommand } from '../framework';
import { RECORD_HELP, RECORD_OPTIONS, recordStoreOption, saveRunRecord } from '../record-options';
import { buildRecord, reportMaps, savedHeatmaps, savedWeightGrid, tensorsHash } from '../../records/build';
import { mapKeeps, probeAsWeights, weightMapInfo } from '../../run/weight-map';
import type { RecordResult } from '../../records/schema';
import { resultsTable } from './verify';
import { termSafe } from '../term';
import { checkOutputs, writeOutputAtomic } from '../../output-path';
import { metaString } from '../../model';

export const checkCommand: CliCommand = {
  name: 'check',
  summary: 'judge an output made elsewhere against the declared-arithmetic reference; diagnose a FAIL',
  help: `quantscope check <file.gguf> <tensor> --input <x.f32|x.npy|identity> --output <y.f32> --m <M>
                [--arithmetic f32|q8_1|qs8|qs8-mma|bf16|f16] [--threshold NMSE] [--json <path>] [--report <path>]
                [--force] [--records <dir>] [--no-record]
  y = x · Wᵀ as computed by some kernel: raw float32 [M][n]; x raw float32 [M][k] (or .npy), every
  value finite (a NaN or infinite input is bad input).
  --input identity: x is the k × k identity (--m k, or omit --m): y is then the weights as that
               kernel dequantizes them, and a FAIL names every wrong weight's block and position.
  --arithmetic the kernel's declared arithmetic (default: <TYPE>_MATMUL_ARITHMETIC, else f32).
  --force      let --json/--report replace an existing model file. Output paths are checked before
               any work (never the model, --input or --output) and written through a temporary file.
${RECORD_HELP}
  The record keeps the tensor, the input and output described, m, the arithmetic, the metrics, the
  verdict and the diagnosis.
  Exit 0: pass, or not comparable (outputs of weight rows with NaN/Inf block scales are left out and
  the rest pass); 1: fail (a diagnosis line follows); 2: bad input.`,
  options: {
    input: { type: 'string', short: 'i' },
    output: { type: 'string', short: 'o' },
    m: { type: 'string' },
    arithmetic: { type: 'string' },
    threshold: { type: 'string' },
    json: { type: 'string' },
    report: { type: 'string' },
    force: { type: 'boolean', short: 'f' },
    ...RECORD_OPTIONS,
  },
  minPositionals: 2,
  maxPositionals: 2,
  async run(ctx) {
    const [p, name] = ctx.positionals;
    const input = stringOption(ctx.values, 'input');
    const output = stringOption(ctx.values, 'output');
    if (!input) throw new UsageError('check: --input <x.f32|identity> is required');
    if (!output) throw new UsageError('check: --output <y.f32> is required');
    const arith = stringOption(ctx.values, 'arithmetic');
    if (arith !== undefined && !isSchemeId(arith))
      throw new UsageError(`--arithmetic: unknown arithmetic '${arith}' (one of ${SCHEME_IDS.join(', ')})`);
    const thrStr = stringOption(ctx.values, 'threshold');
    let threshold: number | null = null;
    if (thrStr !== undefined) {
      threshold = Number(thrStr);
      if (!Number.isFinite(threshold) || threshold <= 0)
        throw new UsageError(`--threshold must be a positive number, got '${thrStr}'`);
    }
    const jsonPath = stringOption(ctx.values, 'json');
    const reportPath = stringOption(ctx.values, 'report');
    if (reportPath && !/\.(html?|md|json)$/i.test(reportPath))
      throw new UsageError(`--report ${reportPath}: use a .html, .md or .json file name`);
    const outputs = await checkOutputs(
      [
        ...(jsonPath ? [{ option: '--json', path: jsonPath }] : []),
        ...(reportPath ? [{ option: '--report', path: reportPath }] : []),
      ],
      { inputs: [p, output, ...(input === 'identity' ? [] : [input])], force: Boolean(ctx.values.force) },
    );
    const jsonOut = outputs.find((o) => o.option === '--json');
    const reportOut = outputs.find((o) => o.option === '--report');
    const records = recordStoreOption(ctx.values);

    let file: GgufFile;
    try {
      file = await GgufFile.open(p);
    } catch (e) {
      throw new UsageError(oneLine(e));
    }
    try {
      const t = file.header.tensors.find((x) => x.name === name);
      const identity = input === 'identity';
      const m =
        identity && ctx.values.m === undefined ? undefined : intOption(ctx.values, 'm', 0, 1, 1 << 24);
      if (ctx.values.m === undefined && !identity) throw new UsageError('check: --m <M> is required');
      if (identity && t && m !== undefined && m !== t.k)
        throw new UsageError(`--input identity: m must equal k=${t.k} (the k × k identity), got --m ${m}`);
      let judged;
      try {
        judged = await judgePair(file, {
          tensor: name,
          input,
          output,
          m,
          arithmetic: arith ?? null,
          threshold,
        });
      } catch (e) {
        if (e instanceof PairInputError) throw new UsageError(e.message.replace(/^(input|output) /, '--$1 '));
        throw e;
      }
      const { result, verdict: v, scheme, got } = judged;
      ctx.stdout.write(resultsTable([result]));
      const mis = v.metrics.nanMismatches + v.metrics.infMismatches;
      ctx.stdout.write(
        `\n${v.status.toUpperCase()}: kernel NMSE ${fmtNmse(v.metrics.nmse, v.threshold)} against the ${scheme.id} reference (bar ${fmtThreshold(v.threshold)})${mis > 0 ? `, non-finite mismatches: ${v.metrics.nanMismatches} NaN, ${v.metrics.infMismatches} infinite` : ''}; arithmetic NMSE ${fmtExp(v.arithmeticNmse)}\n`,
      );
      if (v.notComparable)
        ctx.stdout.write(`not comparable ${termSafe(result.tensor)}: ${v.notComparable}\n`);
      if (v.diagnosis)
        ctx.stdout.write(
          `diagnosis ${termSafe(result.tensor)}: ${v.diagnosis.class}: ${v.diagnosis.sentence}\n`,
        );
      await saveRunRecord(ctx, records, async () =>
        buildRecord({
          kind: 'check',
          device: null,
          model: {
            fileName: path.basename(file.path),
            path: path.resolve(file.path),
            fileSize: file.header.fileSize,
            tensorsHash: await tensorsHash(file, [result.tensor]),
          },
          request: {
            tensors: [result.tensor],
            batchSizes: [result.m],
            path: 'custom',
            arithmetic: scheme.id,
            activations: identity ? 'identity' : `file ${path.basename(input)}`,
            input: identity ? 'identity (the k × k identity)' : path.resolve(input),
            output: path.resolve(output),
            threshold,
          },
          status: 'done',
          results: [
            {
              ...result,
              arithmeticError: v.arithmeticNmse,
              heatmap: savedHeatmaps(v.declared, got, result.m, result.n, v.skipCols),
              // a FAIL's weight map, as the app's check keeps it: where the probe looked, and its grid
              ...(mapKeeps(v.probe)
                ? {
                    weightMap: {
                      ...weightMapInfo(v.probe),
                      grid: savedWeightGrid(probeAsWeights(v.probe)),
                    },
                  }
                : {}),
            } as unknown as RecordResult,
          ],
        }),
      );
      const grid = errorGrid(v.declared, got, result.m, result.n, {
        maxRows: 64,
        maxCols: 64,
        metric: 'rel',
        skipCols: v.skipCols,
      });
      if (jsonOut)
        await writeOutputAtomic(
          jsonOut,
          JSON.stringify(
            {
              schema: 'quantscope-check/1',
              result,
              heatmap: grid,
              arithmeticScheme: SCHEMES[scheme.id as keyof typeof SCHEMES] ?? scheme,
            },
            null,
            1,
          ) + '\n',
        );
      if (reportOut) {
        const ext = path.extname(reportOut.path).toLowerCase();
        const now = new Date().toISOString();
        await writeOutputAtomic(
          reportOut,
          renderReport(
            {
              runId: result.runId,
              createdAt: now,
              startedAt: now,
              appVersion: APP_VERSION,
              host: `${os.hostname()} (${process.platform}-${process.arch}, node ${process.version})`,
              model: {
                fileName: path.basename(file.path),
                path: path.resolve(file.path),
                ...(file.shards.length > 1 ? { files: file.shards.length } : {}),
                fileSize: file.header.fileSize,
                architecture: metaString(file.header, 'general.architecture'),
                name: metaString(file.header, 'general.name'),
              },
              device: null,
              backend: 'check',
              request: {
                batchSizes: [result.m],
                seed: 0,
                timing: 'none',
                path: 'custom',
                threshold,
                tensors: 1,
                arithmetic: scheme.id,
                activations: identity ? 'identity' : `file ${input}`,
              },
              status: 'done',
              // with the probe's geometry, the report names the weights a map's cells cover
              results: [v.probe ? { ...result, weightMap: weightMapInfo(v.probe) } : result],
              maps: {
                [result.resultId]: reportMaps(
                  { ref: v.declared, got, m: result.m, n: result.n, skipCols: v.skipCols },
                  v.probe ? probeAsWeights(v.probe) : null,
                ),
              },
            },
            ext === '.json' ? 'json' : ext === '.md' ? 'md' : 'html',
          ),
        );
      }
      // not comparable alone is no failure: what could be compared passed
      return v.status === 'fail' ? 1 : 0;
    } finally {
      await file.close();
    }
  },
};
