/**
 * Judging an output made elsewhere: `quantscope check` and the app's "Check a pair" both call
 * judgePair, so a pair gets the same metrics, verdict, heatmap data and diagnosis wherever it is
 * judged. With an 'identity' input the activations are the k x k identity, so the output is the
 * weights as that kernel dequantizes them and every wrong weight is located.
 * Bad input (an unknown tensor, wrong sizes, an unreadable file) throws a PairInputError, one line.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { GgufFile } from '../gguf';
import { FileSizeError, readRegularFile } from '../gguf/file';
import { arithmeticFor, isSchemeId, SCHEME_IDS, type ArithmeticScheme } from '../arithmetic/schemes';
import { checkArithmetic } from '../reference';
import { activationSource } from './activations';
import { judgeOutput, type Verdict } from './verdict';
import { oneLine, type TensorResult } from '../../../src-shared/contract';

export class PairInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PairInputError';
  }
}

export interface PairRequest {
  tensor: string;
  /** a float32 file of activations (raw [m][k] or .npy), or 'identity' */
  input: string;
  /** the raw float32 [m][n] output */
  output: string;
  /** required unless the input is the identity (then k) */
  m?: number;
  arithmetic?: string | null;
  threshold?: number | null;
  /** names the result (default check-<pid>) */
  runId?: string;
}

export interface JudgedPair {
  result: TensorResult;
  verdict: Verdict;
  scheme: ArithmeticScheme;
  /** the output as read */
  got: Float32Array;
}

/** A raw float32 file of exactly `values` values (readRegularFile refuses another size unread). */
async function readF32(file: string, what: string, values: number, needs: string): Promise<Float32Array> {
  let buf: Buffer;
  try {
    buf = await readRegularFile(file, values * 4);
  } catch (e) {
    if (e instanceof FileSizeError)
      throw new PairInputError(
        e.size % 4 !== 0
          ? `${what} ${file}: ${e.size} bytes is not whole float32 values`
          : `${what} ${file} has ${e.size / 4} values; ${needs} needs ${values}`,
      );
    throw new PairInputError(`cannot read ${what}: ${oneLine(e)}`);
  }
  const a = new Float32Array(values);
  new Uint8Array(a.buffer).set(buf);
  return a;
}

/** The float32 count of a raw activation file (null for .npy, whose shape is checked on reading). */
async function readF32Count(file: string): Promise<number | null> {
  if (file.toLowerCase().endsWith('.npy')) return null;
  const st = await fs.stat(file);
  return st.isFile() ? st.size / 4 : null; // anything else is refused when it is read
}

export async function judgePair(file: GgufFile, req: PairRequest): Promise<JudgedPair> {
  const t = file.header.tensors.find((x) => x.name === req.tensor);
  if (!t) throw new PairInputError(`no tensor named '${req.tensor}' in ${path.basename(file.path)}`);
  if (!t.supported)
    throw new PairInputError(`${t.name}: ${t.unsupportedReason ?? `${t.typeName} is not supported`}`);
  const identity = req.input === 'identity';
  if (req.m === undefined && !identity) throw new PairInputError('m (the batch size) is required');
  const m = req.m ?? t.k;
  if (identity && m !== t.k)
    throw new PairInputError(`identity input: m must equal k=${t.k} (the k × k identity), got m=${m}`);
  if (req.arithmetic != null && !isSchemeId(req.arithmetic))
    throw new PairInputError(`unknown arithmetic '${req.arithmetic}' (one of ${SCHEME_IDS.join(', ')})`);
  let scheme: ArithmeticScheme;
  try {
    scheme = arithmeticFor('custom', t.typeName, req.arithmetic ?? null);
    checkArithmetic(scheme, t.type);
  } catch (e) {
    throw new PairInputError(oneLine(e));
  }
  let x: Float32Array;
  if (identity) {
    x = new Float32Array(0); // never multiplied: the reference of the identity is computed directly
  } else {
    try {
      x = await (await activationSource(req.input, 0))(t.name, m, t.k);
    } catch (e) {
      throw new PairInputError(oneLine(e));
    }
    const all = await readF32Count(req.input);
    if (all !== null && all !== m * t.k)
      throw new PairInputError(`input ${req.input} has ${all} values; m=${m} × k=${t.k} needs ${m * t.k}`);
  }
  const got = await readF32(req.output, 'output', m * t.n, `m=${m} × n=${t.n}`);
  const data = await file.readTensor(t);
  const verdict = await judgeOutput({
    type: t.type,
    n: t.n,
    k: t.k,
    data,
    x,
    m,
    got,
    scheme,
    threshold: req.threshold ?? null,
    external: true,
    selfProbe: identity ? Array.from({ length: t.k }, (_, i) => i) : undefined,
  });
  const runId = req.runId ?? `check-${process.pid}`;
  const result: TensorResult = {
    resultId: `${runId}:${t.name}:${m}`,
    runId,
    tensor: t.name,
    type: t.typeName,
    n: t.n,
    k: t.k,
    m,
    backend: 'cpu',
    device: `output ${path.basename(req.output)}`,
    path: 'custom',
    pathDetail: identity ? 'identity input' : `input ${path.basename(req.input)}`,
    status: verdict.status,
    ...(verdict.nonFiniteBlocks > 0 ? { nonFiniteBlocks: verdict.nonFiniteBlocks } : {}),
    ...(verdict.notComparable ? { notComparable: verdict.notComparable } : {}),
    threshold: verdict.threshold,
    metrics: verdict.metrics,
    timing: null,
    unfused: null,
    weightBytes: t.nbytes,
    gridAvailable: false,
    elapsedMs: 0,
    arithmetic: scheme.id,
    arithmeticNmse: verdict.arithmeticNmse,
    diagnosis: verdict.diagnosis,
  };
  return { result, verdict, scheme, got };
}
