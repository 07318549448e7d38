/**
 * `quantscope check`: judges an output produced anywhere (another framework, a kernel run elsewhere)
 * against the reference of its declared arithmetic: the same metrics, verdict, heatmap data and
 * diagnosis as a verify result. With `--input identity` the activations are the k x k identity, so the
 * output is the weights as that kernel dequantizes them and every wrong weight is located.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GgufFile } from '../../gguf';
import { SCHEMES, SCHEME_IDS, arithmeticFor, isSchemeId } from '../../arithmetic/schemes';
import { checkArithmetic } from '../../reference';
import { errorGrid } from '../../compare';
import { judgeOutput } from '../../run/verdict';
import { activationSource } from '../../run/activations';
import { renderReport, fmtExp } from '../../report/report';
import { APP_VERSION } from '../../version';
import { oneLine } from '../../../../src-shared/contract';
import type { TensorResult } from '../../../../src-shared/contract';
import { UsageError, intOption, stringOption, type CliCommand } from '../framework';
import { resultsTable } from './verify';
import { termSafe } from '../term';

async function readF32(file: string, what: string): Promise<Float32Array> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (e) {
    throw new UsageError(
      `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  if (buf.length % 4 !== 0)
    throw new UsageError(`${what} ${file}: ${buf.length} bytes is not whole float32 values`);
  const a = new Float32Array(buf.length / 4);
  new Uint8Array(a.buffer).set(buf);
  return a;
}

export const checkCommand: CliCommand = {
  name: 'check',
  summary: 'judge an output made elsewhere against the declared-arithmetic reference; diagnose a FAIL',
  help: `quantscope check <file.gguf> <tensor> --input <x.f32|x.npy|identity> --output <y.f32> --m <M>
                [--arithmetic f32|q8_1|qs8|qs8-mma|bf16|f16] [--threshold NMSE] [--json <path>] [--report <path>]
  y = x · Wᵀ as computed by some kernel: raw float32 [M][n]; x raw float32 [M][k] (or .npy).
  --input identity: x is the k × k identity (--m k, or omit --m): y is then the weights as that
               kernel dequantizes them, and a FAIL names every wrong weight's block and position.
  --arithmetic the kernel's declared arithmetic (default: <TYPE>_MATMUL_ARITHMETIC, else f32).
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

    let file: GgufFile;
    try {
      file = await GgufFile.open(p);
    } catch (e) {
      throw new UsageError(oneLine(e));
    }
    try {
      const t = file.header.tensors.find((x) => x.name === name);
      if (!t) throw new UsageError(`no tensor named '${name}' in ${path.basename(p)}`);
      if (!t.supported)
        throw new UsageError(`${t.name}: ${t.unsupportedReason ?? `${t.typeName} is not supported`}`);
      const identity = input === 'identity';
      const m = identity && ctx.values.m === undefined ? t.k : intOption(ctx.values, 'm', 0, 1, 1 << 24);
      if (ctx.values.m === undefined && !identity) throw new UsageError('check: --m <M> is required');
      if (identity && m !== t.k)
        throw new UsageError(`--input identity: m must equal k=${t.k} (the k × k identity), got --m ${m}`);
      let scheme;
      try {
        scheme = arithmeticFor('custom', t.typeName, arith ?? null);
        checkArithmetic(scheme, t.type);
      } catch (e) {
        throw new UsageError(oneLine(e));
      }
      let x: Float32Array;
      if (identity) {
        x = new Float32Array(0); // never multiplied: the reference of the identity is computed directly
      } else {
        try {
          x = await (await activationSource(input, 0))(t.name, m, t.k);
        } catch (e) {
          throw new UsageError(oneLine(e));
        }
        const all = await readF32Count(input);
        if (all !== null && all !== m * t.k)
          throw new UsageError(`--input ${input} has ${all} values; m=${m} × k=${t.k} needs ${m * t.k}`);
      }
      const got = await readF32(output, '--output');
      if (got.length !== m * t.n)
        throw new UsageError(
          `--output ${output} has ${got.length} values; m=${m} × n=${t.n} needs ${m * t.n}`,
        );
      const data = await file.readTensor(t);
      const elems = identity ? Array.from({ length: t.k }, (_, i) => i) : undefined;
      const v = await judgeOutput({
        type: t.type,
        n: t.n,
        k: t.k,
        data,
        x,
        m,
        got,
        scheme,
        threshold,
        selfProbe: elems,
      });
      const result: TensorResult = {
        resultId: `check:${t.name}:${m}`,
        runId: `check-${process.pid}`,
        tensor: t.name,
        type: t.typeName,
        n: t.n,
        k: t.k,
        m,
        backend: 'cpu',
        device: `output ${path.basename(output)}`,
        path: 'custom',
        pathDetail: identity ? 'identity input' : `input ${path.basename(input)}`,
        status: v.status,
        ...(v.nonFiniteBlocks > 0 ? { nonFiniteBlocks: v.nonFiniteBlocks } : {}),
        ...(v.notComparable ? { notComparable: v.notComparable } : {}),
        threshold: v.threshold,
        metrics: v.metrics,
        timing: null,
        unfused: null,
        weightBytes: t.nbytes,
        gridAvailable: false,
        elapsedMs: 0,
        arithmetic: scheme.id,
        arithmeticNmse: v.arithmeticNmse,
        diagnosis: v.diagnosis,
      };
      ctx.stdout.write(resultsTable([result]));
      ctx.stdout.write(
        `\n${v.status.toUpperCase()}: kernel NMSE ${fmtExp(v.metrics.nmse)} against the ${scheme.id} reference (bar ${fmtExp(v.threshold)}); arithmetic NMSE ${fmtExp(v.arithmeticNmse)}\n`,
      );
      if (v.notComparable) ctx.stdout.write(`not comparable ${termSafe(t.name)}: ${v.notComparable}\n`);
      if (v.diagnosis)
        ctx.stdout.write(`diagnosis ${t.name}: ${v.diagnosis.class}: ${v.diagnosis.sentence}\n`);
      const grid = errorGrid(v.declared, got, m, t.n, { maxRows: 64, maxCols: 64, metric: 'rel' });
      if (jsonPath)
        await fs.writeFile(
          jsonPath,
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
      if (reportPath) {
        const ext = path.extname(reportPath).toLowerCase();
        const now = new Date().toISOString();
        await fs.writeFile(
          reportPath,
          renderReport(
            {
              runId: result.runId,
              createdAt: now,
              startedAt: now,
              appVersion: APP_VERSION,
              host: `${os.hostname()} (${process.platform}-${process.arch}, node ${process.version})`,
              model: {
                fileName: path.basename(p),
                path: path.resolve(p),
                fileSize: file.header.fileSize,
                architecture: null,
                name: null,
              },
              device: null,
              backend: 'check',
              request: {
                batchSizes: [m],
                seed: 0,
                timing: 'none',
                path: 'custom',
                threshold,
                tensors: 1,
                arithmetic: scheme.id,
                activations: identity ? 'identity' : `file ${input}`,
              },
              status: 'done',
              results: [result],
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

/** The float32 count of a raw activation file (null for .npy, whose shape was checked on reading). */
async function readF32Count(file: string): Promise<number | null> {
  if (file.toLowerCase().endsWith('.npy')) return null;
  const st = await fs.stat(file);
  return st.size / 4;
}
