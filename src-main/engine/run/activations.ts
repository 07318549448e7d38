/**
 * The activations a verification multiplies with, reproducible from (kind, seed, tensor, m):
 * - gaussian: independent normal(0, 1) values (activationsFor)
 * - outliers / outliers100: the gaussian values with one channel in 128 (the input features c with
 *   c % 128 == (seed * 37 + 5) % 128) scaled by 20 or by 100: the outlier channels of real
 *   transformer activations, which make every 32-value group that holds one quantize the rest coarsely
 * - embeddings: rows of the model's own token_embd.weight, dequantized, for pseudo-random token ids;
 *   rows are concatenated when k is larger than the embedding width (and cut at k)
 * - a file: raw little-endian float32 (.f32, row length k) or a float32 .npy of shape [rows][k]; the
 *   first m rows; every value finite (fileActivations)
 */
import { codecFor } from '../formats';
import type { GgufFile } from '../gguf';
import { readRegularFile } from '../gguf/file';
import { Rng } from '../rng';

import { ACTIVATION_KINDS, oneLine } from '../../../src-shared/contract';
export { ACTIVATION_KINDS };
export type ActivationKind = (typeof ACTIVATION_KINDS)[number];

/** An --activations spec that names generated activations (anything else is a file). */
export function isActivationKind(spec: string): spec is ActivationKind {
  return (ACTIVATION_KINDS as readonly string[]).includes(spec);
}

/** Activations for (seed, tensor, m): reproducible across runs, backends and machines. */
export function activationsFor(seed: number, tensorName: string, m: number, k: number): Float32Array {
  const count = m * k;
  // Large activations are made in shared memory: the worker threads read them where they are,
  // instead of each run and reference taking a copy (k = 2^28 is 1 GiB per copy).
  const out = count * 4 >= SHARED_FROM_BYTES ? new Float32Array(new SharedArrayBuffer(count * 4)) : undefined;
  return new Rng(jobHash(seed, tensorName, m)).normalF32(count, 1, out);
}

/** Activations (and tensor data read for a run) of at least this size live in shared memory. */
export const SHARED_FROM_BYTES = 64 << 20;

function jobHash(seed: number, tensorName: string, m: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < tensorName.length; i++) h = Math.imul(h ^ tensorName.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ m, 0x01000193);
  return h >>> 0;
}

/** The first outlier channel of a seed (then every 128th). */
export function outlierChannel(seed: number): number {
  return (seed * 37 + 5) % 128;
}

export function withOutliers(x: Float32Array, k: number, seed: number, factor: number): Float32Array {
  const c0 = outlierChannel(seed);
  for (let r = 0; r < x.length / k; r++)
    for (let c = c0; c < k; c += 128) x[r * k + c] = Math.fround(x[r * k + c] * factor);
  return x;
}

export type ActivationSource = (tensorName: string, m: number, k: number) => Promise<Float32Array>;

/** A one-line description for reports: the kind and what it depends on. */
export function describeActivations(spec: string, seed: number): string {
  if (spec === 'gaussian') return `gaussian, seed ${seed}`;
  if (spec === 'outliers' || spec === 'outliers100')
    return `gaussian with channels ${outlierChannel(seed)} + 128i x${spec === 'outliers' ? 20 : 100}, seed ${seed}`;
  if (spec === 'embeddings') return `token_embd.weight rows, seed ${seed}`;
  return `file ${spec}`;
}

/**
 * The values of an activations file (raw float32, or a float32 .npy whose row length is `cols`).
 * With `finite`, a NaN or infinite value anywhere in it is refused before any of it is used.
 */
async function readActivationFile(
  file: string,
  finite: boolean,
): Promise<{ data: Float32Array; cols: number | null }> {
  let buf: Buffer;
  try {
    buf = await readRegularFile(file);
  } catch (e) {
    throw new Error(`cannot read activations: ${oneLine(e)}`);
  }
  if (file.toLowerCase().endsWith('.npy')) {
    if (buf.length < 10 || buf.toString('latin1', 1, 6) !== 'NUMPY')
      throw new Error(`${file}: not a .npy file`);
    const hlen = buf[6] === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
    const start = buf[6] === 1 ? 10 + hlen : 12 + hlen;
    const header = buf.toString('latin1', buf[6] === 1 ? 10 : 12, start);
    if (!/'descr':\s*'<f4'/.test(header))
      throw new Error(`${file}: .npy dtype must be little-endian float32 ('<f4')`);
    if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: .npy must be C order`);
    const shape = /'shape':\s*\(([^)]*)\)/
      .exec(header)?.[1]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number);
    if (!shape || shape.length < 1 || shape.length > 2 || shape.some((d) => !Number.isInteger(d)))
      throw new Error(`${file}: .npy shape must be [rows][k]`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (buf.length - start < count * 4) throw new Error(`${file}: .npy holds fewer values than its shape`);
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(buf.subarray(start, start + count * 4));
    if (finite) checkFinite(file, data);
    return { data, cols: shape.length === 2 ? shape[1] : null };
  }
  if (buf.length % 4 !== 0) throw new Error(`${file}: ${buf.length} bytes is not whole float32 values`);
  const data = new Float32Array(buf.length / 4);
  new Uint8Array(data.buffer).set(buf);
  if (finite) checkFinite(file, data);
  return { data, cols: null };
}

function checkFinite(file: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i]))
      throw new Error(
        `activations ${file}: value ${i} is not finite (${data[i]}); a verdict needs finite activations`,
      );
}

/**
 * The activations of a file, raw float32 (.f32, rows of k) or a float32 .npy of shape [rows][k]: the
 * first m rows. With `finite` (verify and check, which judge kernels on them: a verdict on NaN or
 * infinite input means nothing) a file holding a non-finite value is refused as it is read;
 * without it (matmul, which computes whatever it is given) the values are used as they are.
 */
export async function fileActivations(file: string, opts: { finite: boolean }): Promise<ActivationSource> {
  const { data, cols } = await readActivationFile(file, opts.finite);
  return (_name, m, k) => {
    if (cols !== null && cols !== k)
      return Promise.reject(new Error(`activations ${file} have rows of ${cols}, the tensor needs k=${k}`));
    if (data.length < m * k)
      return Promise.reject(
        new Error(`activations ${file} hold ${data.length} values, m=${m} x k=${k} needs ${m * k}`),
      );
    return Promise.resolve(data.slice(0, m * k));
  };
}

/** The activation source for `spec` (a kind or a file path); embeddings need the model file. */
export async function activationSource(
  spec: string,
  seed: number,
  file?: GgufFile,
): Promise<ActivationSource> {
  if (spec === 'gaussian') return (name, m, k) => Promise.resolve(activationsFor(seed, name, m, k));
  if (spec === 'outliers' || spec === 'outliers100') {
    const f = spec === 'outliers' ? 20 : 100;
    return (name, m, k) => Promise.resolve(withOutliers(activationsFor(seed, name, m, k), k, seed, f));
  }
  if (spec === 'embeddings') {
    const t = file?.header.tensors.find((x) => x.name === 'token_embd.weight');
    if (!file || !t) throw new Error('--activations embeddings: the model has no token_embd.weight');
    if (!t.supported)
      throw new Error(`--activations embeddings: token_embd.weight is ${t.typeName}, not supported`);
    const codec = codecFor(t.type);
    return async (name, m, k) => {
      const rng = new Rng(jobHash(seed, name, m));
      const x = new Float32Array(m * k);
      const row = new Float32Array(t.k);
      for (let r = 0; r < m; r++)
        for (let c = 0; c < k; c += t.k) {
          const id = Math.floor(rng.next() * t.n);
          codec.dequantizeRow(await file.readRows(t, id, 1), 0, t.k, row, 0);
          x.set(row.subarray(0, Math.min(t.k, k - c)), r * k + c);
        }
      return x;
    };
  }
  // a file: verify and check judge kernels on it, so its values must be finite
  return fileActivations(spec, { finite: true });
}
