/**
 * The float64 reference: y = x * W^T with W dequantized exactly as llama.cpp does and every product
 * summed in float64 (see ./kernel.ts for the arithmetic). With a declared arithmetic (opts.arithmetic,
 * ../arithmetic) the activations and weights are first rounded exactly as that scheme's kernels do;
 * the activations once here, shared with every worker. referenceMatmul streams W to the worker pool
 * in row blocks of a few MB, so memory stays bounded for any tensor size; referenceMatmulSync runs the
 * same arithmetic on the calling thread and gives bit-identical results.
 */
import { codecFor } from '../formats';
import { rowBytes, typeName } from '../ggml-types';
import { getPool, runChunks } from '../workers/pool';
import { referenceRows, referenceRowsDeclared } from './kernel';
export { refRowsTask } from './kernel';
import { isExact, type ArithmeticScheme } from '../arithmetic/schemes';
import { prepareActivations } from '../arithmetic/activations';

export interface WeightSource {
  type: number;
  n: number;
  k: number;
  /** the raw bytes of rows [rowStart, rowStart + rowCount), row after row */
  readRows(rowStart: number, rowCount: number): Promise<Uint8Array>;
}

export interface MatmulOptions {
  signal?: AbortSignal;
  onProgress?: (rowsDone: number, n: number) => void;
  /** at most this many workers (default: the whole pool) */
  threads?: number;
  /** the declared arithmetic to mirror (default: exact float32 inputs) */
  arithmetic?: ArithmeticScheme;
}

/** Weight bytes per task (the spec asks for ~4-8 MB). */
const CHUNK_BYTES = 6 << 20;
/** Multiply-adds per task, so that a task stays well under a second at large m (cancellation). */
const CHUNK_MACS = 48 << 20;
/** The largest output we allocate: 2^28 float64 values = 2 GiB. */
const MAX_OUTPUT = 2 ** 28;

/** Checks the shape and returns the row size in bytes; throws a one-line error naming what is wrong. */
export function checkMatmulShape(type: number, n: number, k: number, x: Float32Array, m: number): number {
  const codec = codecFor(type); // throws for unsupported / unknown types
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${codec.name}: row count n=${n} must be a positive integer`);
  if (!Number.isSafeInteger(k) || k < 1)
    throw new Error(`${codec.name}: row length k=${k} must be a positive integer`);
  if (!Number.isSafeInteger(m) || m < 1) throw new Error(`batch size m=${m} must be a positive integer`);
  if (!(x instanceof Float32Array)) throw new Error('activations x must be a Float32Array');
  if (x.length !== m * k)
    throw new Error(`activations x has ${x.length} values, expected m*k = ${m}*${k} = ${m * k}`);
  if (m * n > MAX_OUTPUT) throw new Error(`output of ${m}x${n} values is too large (max ${MAX_OUTPUT})`);
  return rowBytes(type, k); // throws when k is not a multiple of the block size
}

/** A WeightSource over bytes already in memory (row-major [n][k] as stored in the GGUF file). */
export function memorySource(type: number, n: number, k: number, data: Uint8Array): WeightSource {
  const name = typeName(type);
  codecFor(type);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${name}: row count n=${n} must be a positive integer`);
  const rb = rowBytes(type, k);
  if (data.length < n * rb) {
    throw new Error(`${name}: ${n}x${k} needs ${n * rb} bytes but only ${data.length} were given`);
  }
  return {
    type,
    n,
    k,
    readRows(rowStart: number, rowCount: number): Promise<Uint8Array> {
      if (
        !Number.isInteger(rowStart) ||
        !Number.isInteger(rowCount) ||
        rowStart < 0 ||
        rowCount < 0 ||
        rowStart + rowCount > n
      ) {
        return Promise.reject(
          new Error(`${name}: rows [${rowStart}, ${rowStart + rowCount}) are outside 0..${n}`),
        );
      }
      return Promise.resolve(data.subarray(rowStart * rb, (rowStart + rowCount) * rb));
    },
  };
}

/** Single-threaded reference, same arithmetic as referenceMatmul (bit-identical); for tests and small sizes. */
export function referenceMatmulSync(
  type: number,
  data: Uint8Array,
  n: number,
  k: number,
  x: Float32Array,
  m: number,
  arithmetic?: ArithmeticScheme,
): Float64Array {
  const rb = checkMatmulShape(type, n, k, x, m);
  if (data.length < n * rb) {
    throw new Error(`${typeName(type)}: ${n}x${k} needs ${n * rb} bytes but only ${data.length} were given`);
  }
  const y = new Float64Array(m * n);
  if (!arithmetic || isExact(arithmetic)) referenceRows(type, data, 0, n, k, x, m, y, n, 0);
  else {
    checkArithmetic(arithmetic, type);
    const p = prepareActivations(arithmetic, x, m, k);
    referenceRowsDeclared(arithmetic, type, data, 0, n, k, p.xa, p.sums, m, y, n, 0);
  }
  return y;
}

/** A one-line error when the scheme cannot describe a kernel for this weight type. */
export function checkArithmetic(s: ArithmeticScheme, type: number): void {
  if (s.activations.kind === 'int8' && !s.offsets[type])
    throw new Error(
      `arithmetic ${s.id} (int8 activations) has no offset form for ${typeName(type)} (it needs a quantized format with an int8 kernel)`,
    );
}

/** Rows per task: about CHUNK_BYTES of weights, fewer at large m, and enough tasks to feed every worker. */
export function chunkRowsFor(n: number, k: number, rb: number, m: number, workers: number): number {
  const byBytes = Math.floor(CHUNK_BYTES / Math.max(1, rb));
  const byWork = Math.floor(CHUNK_MACS / Math.max(1, k * m));
  const bySpread = Math.ceil(n / Math.max(1, workers * 2));
  return Math.max(1, Math.min(byBytes, byWork, bySpread));
}

/** The payload of the 'ref-rows' worker task. */
export interface RefRowsPayload {
  type: number;
  k: number;
  rows: number;
  m: number;
  /** SharedArrayBuffer holding x as float32 [m][k] (float64 for int8 arithmetic: d * q) */
  x: SharedArrayBuffer;
  data: Uint8Array;
  /** the declared arithmetic, plain data (absent: exact float32 inputs) */
  arithmetic?: ArithmeticScheme;
  /** int8 arithmetic: the stored per-32 sums, float64 [m][k/32] */
  sums?: SharedArrayBuffer;
}

function share(a: Float32Array | Float64Array): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(a.byteLength);
  new Uint8Array(sab).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return sab;
}

/**
 * x in shared memory for every task of a job: x itself when it already fills a SharedArrayBuffer
 * (large activations are made there, ../run/activations.ts), else one copy.
 */
export function shareF32(x: Float32Array): SharedArrayBuffer {
  if (x.buffer instanceof SharedArrayBuffer && x.byteOffset === 0 && x.byteLength === x.buffer.byteLength)
    return x.buffer;
  const sab = new SharedArrayBuffer(x.length * 4);
  new Float32Array(sab).set(x);
  return sab;
}

/**
 * The bytes of a chunk as something cheap to post: views of shared memory go as they are; anything
 * else is copied into a fresh buffer that is transferred (never the caller's own buffer).
 */
export function chunkForPost(bytes: Uint8Array, need: number): { data: Uint8Array; transfer: ArrayBuffer[] } {
  if (bytes.buffer instanceof SharedArrayBuffer) return { data: bytes.subarray(0, need), transfer: [] };
  const copy = bytes.slice(0, need);
  return { data: copy, transfer: [copy.buffer as ArrayBuffer] };
}

export async function referenceMatmul(
  src: WeightSource,
  x: Float32Array,
  m: number,
  opts: MatmulOptions = {},
): Promise<Float64Array> {
  const { type, n, k } = src;
  const rb = checkMatmulShape(type, n, k, x, m);
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) {
    throw new Error(`threads=${opts.threads} must be a positive integer`);
  }
  const workers = Math.min(opts.threads ?? getPool().size, getPool().size);
  const chunkRows = chunkRowsFor(n, k, rb, m, workers);
  const count = Math.ceil(n / chunkRows);
  const scheme = opts.arithmetic && !isExact(opts.arithmetic) ? opts.arithmetic : null;
  let xs: SharedArrayBuffer;
  let sums: SharedArrayBuffer | undefined;
  if (scheme) {
    checkArithmetic(scheme, type);
    const p = prepareActivations(scheme, x, m, k);
    xs = share(p.xa);
    if (p.sums) sums = share(p.sums);
  } else xs = shareF32(x);
  const y = new Float64Array(m * n);
  let rowsDone = 0;
  await runChunks<Float64Array>({
    count,
    concurrency: workers,
    signal: opts.signal,
    make: async (i) => {
      const r0 = i * chunkRows;
      const rows = Math.min(chunkRows, n - r0);
      const bytes = await src.readRows(r0, rows);
      if (!(bytes instanceof Uint8Array) || bytes.length < rows * rb) {
        throw new Error(
          `${typeName(type)}: weight source gave ${bytes?.length ?? 0} bytes for rows ${r0}..${r0 + rows}, expected ${rows * rb}`,
        );
      }
      const { data, transfer } = chunkForPost(bytes, rows * rb);
      const payload: RefRowsPayload = { type, k, rows, m, x: xs, data };
      if (scheme) {
        payload.arithmetic = scheme;
        payload.sums = sums;
      }
      return { name: 'ref-rows', payload, transfer };
    },
    done: (i, part) => {
      const r0 = i * chunkRows;
      const rows = part.length / m;
      for (let r = 0; r < m; r++) y.set(part.subarray(r * rows, (r + 1) * rows), r * n + r0);
      rowsDone += rows;
      opts.onProgress?.(rowsDone, n);
    },
  });
  return y;
}
