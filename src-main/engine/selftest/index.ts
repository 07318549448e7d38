/**
 * GPU (or any backend) self-test: random and adversarial weights in every supported format, shapes
 * chosen to hit every kernel's edge cases (k of one block, n = 1, n not a multiple of any tile, large
 * n, chunk boundaries), every batch size class, every kernel path; outputs are poisoned before each
 * run (the backend fills them with NaN) and compared with the float64 reference.
 */
import { kernelSettingsText } from '../../../src-shared/devices';
import { outputHash } from '../run/runner';
import { thresholdFor } from '../compare';
import { arithmeticFor } from '../arithmetic/schemes';
import { judgeOutput } from '../run/verdict';
import type { Diagnosis } from '../../../src-shared/contract';
import { FORMATS, f32ToBf16, f32ToFp16, formatSpec } from '../formats';
import { GgmlType, rowBytes, typeInfo, typeName } from '../ggml-types';
import { Rng } from '../rng';
import type { Backend, BackendSession, DeviceInfo, KernelPath, PathChoice } from '../backends/types';

export type WeightCase =
  'random' | 'zero-scales' | 'max-scales' | 'negative-scales' | 'subnormal-scales' | 'max-nibbles';

export interface SelftestRow {
  format: string;
  n: number;
  k: number;
  m: number;
  weights: WeightCase;
  requested: PathChoice;
  path: KernelPath | null;
  nmse: number | null;
  threshold: number | null;
  result: 'pass' | 'fail' | 'error';
  /** error message or worst element */
  detail: string;
  ms: number;
  /** the declared arithmetic the reference mirrored */
  arithmetic?: string;
  /** NMSE of that declared reference against the exact float32-input one */
  arithmeticNmse?: number;
  /** for a failure: the likely defect */
  diagnosis?: Diagnosis | null;
  /** sha256 of the kernel's output (32 hex digits), for comparing identical cards */
  outputHash?: string;
}

export interface SelftestOptions {
  deviceIndex?: number;
  quick?: boolean;
  seed?: number;
  onLine?: (s: string) => void;
  /** only these ggml type ids (default: every type the backend has kernels for) */
  types?: number[];
  signal?: AbortSignal;
  /** the session is open: how many cases follow, on which device */
  onStart?: (total: number, device: string, info: DeviceInfo) => void;
  /** each case as it finishes (index from 0) */
  onRow?: (row: SelftestRow, index: number, total: number) => void;
}

/** Every registered format, in the registry's order. */
const ALL_FORMATS = FORMATS.map((f) => f.id);
/** The formats a backend computes: the cpu backend all of them, the GPU backends those with a kernel. */
function formatsFor(kind: Backend['kind']): number[] {
  return kind === 'cpu' ? ALL_FORMATS : FORMATS.filter((f) => f.gpu).map((f) => f.id);
}
// m > 8 covers each int8 matrix-unit tile height (16, 32, 64, 128) whole and partly filled
const ALL_M = [1, 2, 3, 4, 5, 8, 16, 24, 40, 64, 100, 512];

function half(v: number): number {
  return f32ToFp16(v);
}

/** Weight bytes for a case: random bits with finite scales, or one of the adversarial patterns. */
export function makeWeights(type: number, n: number, k: number, wc: WeightCase, rng: Rng): Uint8Array {
  const info = typeInfo(type)!;
  const bytes = rowBytes(type, k) * n;
  const out = new Uint8Array(bytes);
  if (info.float) {
    const v = rng.normalF32(n * k);
    if (type === GgmlType.F32) return new Uint8Array(v.buffer);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < n * k; i++) {
      let x = v[i];
      if (wc === 'max-scales') x = i % 7 === 0 ? 65504 * Math.sign(x || 1) : x;
      if (wc === 'zero-scales' && i % 3 === 0) x = 0;
      if (wc === 'negative-scales') x = -Math.abs(x);
      dv.setUint16(2 * i, type === GgmlType.F16 ? f32ToFp16(x) : f32ToBf16(x), true);
    }
    return out;
  }
  for (let i = 0; i < bytes; i += 4) {
    const r = rng.u32();
    out[i] = r & 255;
    if (i + 1 < bytes) out[i + 1] = (r >>> 8) & 255;
    if (i + 2 < bytes) out[i + 2] = (r >>> 16) & 255;
    if (i + 3 < bytes) out[i + 3] = r >>> 24;
  }
  const bb = info.blockBytes;
  const fields = formatSpec(type)?.scaleOffsets ?? []; // byte offsets of the half scales (d, dmin)
  const dv = new DataView(out.buffer);
  for (let b = 0; b < bytes / bb; b++) {
    const base = b * bb;
    if (wc === 'max-nibbles') {
      for (let i = 0; i < bb; i++) out[base + i] = 0xff;
    }
    fields.forEach((off, fi) => {
      let h: number;
      switch (wc) {
        case 'zero-scales':
          h = 0;
          break;
        case 'max-scales':
          h = 0x7bff; // 65504
          break;
        case 'negative-scales':
          h = half(-(0.001 + rng.next() * 0.05));
          break;
        case 'subnormal-scales':
          h = 1 + (rng.u32() % 0x3ff); // positive subnormals
          break;
        default:
          h = half((fi === 0 ? 1 : 0.5) * (0.001 + rng.next() * 0.05) * (rng.next() < 0.1 ? -1 : 1));
      }
      dv.setUint16(base + off, h, true);
    });
  }
  return out;
}

interface Case {
  type: number;
  n: number;
  k: number;
  m: number;
  weights: WeightCase;
  path: PathChoice;
}

/** The case list: deterministic for (quick, types). */
export function selftestCases(quick: boolean, types: number[] = ALL_FORMATS, mma = false): Case[] {
  const cases: Case[] = [];
  for (const type of types) {
    const info = typeInfo(type)!;
    const qk = info.blockElems === 1 ? 1 : info.blockElems;
    const plain = info.float;
    // (n, k, m list)
    const oneBlock = plain ? 1 : qk;
    const odd = plain ? 99 : 3 * qk;
    const chunky = plain ? 4093 : qk === 32 ? 17 * qk * (quick ? 3 : 16) : (quick ? 9 : 33) * qk;
    const shapes: { n: number; k: number; ms: number[] }[] = quick
      ? [
          { n: 1, k: oneBlock, ms: [1, 16] },
          { n: 67, k: odd, ms: [1, 3, 8, 16, 24, 64, 100] },
          { n: 131, k: chunky, ms: [1, 5, 8, 16] },
          { n: 1029, k: plain ? 512 : qk * (qk === 32 ? 16 : 2), ms: [2, 64] },
        ]
      : [
          { n: 1, k: oneBlock, ms: [1, 3, 16, 64] },
          { n: 67, k: odd, ms: ALL_M },
          { n: 1029, k: chunky, ms: [1, 2, 3, 4, 5, 8, 16, 64] },
          { n: 8195, k: plain ? 256 : qk * (qk === 32 ? 8 : 1), ms: [1, 8, 16, 64] },
        ];
    // k = 2048 makes every quantized format's rows a multiple of 16 bytes, which Hopper's bfloat16
    // warpgroup kernels copy with one tensor copy per slice (the shapes above have rows they copy one by
    // one); n = 300 leaves a partial tile of weight rows, m = 100 and 200 run the 128- and 256-row tiles
    if (!plain) shapes.push({ n: 300, k: 2048, ms: quick ? [100, 200] : [100, 200, 512] });
    // n = 1 at m <= 8 runs the float32 kernel: one output's NMSE is one dot product's relative error,
    // which 8-bit activations cannot bound when the dot cancels to near zero (llama.cpp's MUL_MAT
    // tests likewise judge at least 16 outputs); the int8 path is judged on the n >= 67 shapes
    for (const s of shapes)
      for (const m of s.ms)
        cases.push({
          type,
          n: s.n,
          k: s.k,
          m,
          weights: 'random',
          path: s.n === 1 && m <= 8 ? 'f32' : 'auto',
        });
    // every kernel path: beside 'auto' (int8 activations for quantized weights), the exact float32
    // paths (the small-batch kernel and the tiled one) and the unfused baseline
    const alt = quick
      ? [
          { n: 67, k: odd, m: 16 },
          ...(plain
            ? []
            : [1, 3, 8].map((m) => ({ n: 67, k: odd, m })).concat([{ n: 131, k: chunky, m: 5 }])),
        ]
      : [
          { n: 67, k: odd, m: 16 },
          { n: 1029, k: chunky, m: 64 },
          ...(plain
            ? []
            : [1, 2, 3, 4, 5, 8]
                .map((m) => ({ n: 67, k: odd, m }))
                .concat([1, 8].map((m) => ({ n: 1029, k: chunky, m })))),
        ];
    for (const a of alt) cases.push({ type, ...a, weights: 'random', path: 'f32' });
    if (!plain) {
      cases.push({ type, n: 67, k: odd * 2, m: 1, weights: 'max-scales', path: 'f32' });
      cases.push({ type, n: 67, k: odd * 2, m: 4, weights: 'max-nibbles', path: 'f32' });
    }
    // the matrix-unit path at batch sizes 'auto' gives to the small kernel (CUDA only)
    if (mma && !plain) {
      cases.push({ type, n: 67, k: odd, m: 16, weights: 'random', path: 'mma' });
      cases.push({ type, n: 67, k: odd * 2, m: 9, weights: 'max-scales', path: 'mma' });
      // Hopper's short tensor-copy tiles (32 and 64 activation rows), whatever 'auto' picks there
      for (const m of [9, 40]) cases.push({ type, n: 300, k: 2048, m, weights: 'random', path: 'mma' });
    }
    for (const a of [
      { n: 67, k: odd, m: 3 },
      { n: 67, k: odd, m: 16 },
    ])
      cases.push({ type, ...a, weights: 'random', path: 'unfused' });
    const adv: WeightCase[] = plain
      ? ['zero-scales', 'max-scales', 'negative-scales']
      : ['zero-scales', 'max-scales', 'negative-scales', 'subnormal-scales', 'max-nibbles'];
    for (const wc of adv)
      for (const m of quick ? [1, 16] : [1, 4, 16, 64])
        cases.push({ type, n: 67, k: odd * 2, m, weights: wc, path: 'auto' });
  }
  return cases;
}

function fmtRow(r: SelftestRow): string {
  const nm = r.nmse === null ? '-' : r.nmse.toExponential(2);
  return (
    `${r.result.toUpperCase().padEnd(5)} ${r.format.padEnd(6)} n=${String(r.n).padEnd(5)} k=${String(r.k).padEnd(6)} ` +
    `m=${String(r.m).padEnd(4)} ${r.weights.padEnd(16)} ${(r.path ?? r.requested).padEnd(16)} nmse=${nm.padEnd(9)}` +
    (r.result === 'pass' ? '' : ` ${r.detail}`) +
    (r.diagnosis ? ` | diagnosis ${r.diagnosis.class}: ${r.diagnosis.sentence}` : '')
  );
}

export async function selftest(
  backend: Backend,
  opts: SelftestOptions,
): Promise<{ passed: number; failed: number; rows: SelftestRow[]; device: DeviceInfo | null }> {
  const line = opts.onLine ?? (() => {});
  const rng = new Rng(opts.seed ?? 1234);
  // the cpu backend has only its own float32 path
  const cases = selftestCases(
    !!opts.quick,
    opts.types ?? formatsFor(backend.kind),
    backend.kind === 'cuda',
  ).filter((c) => backend.kind !== 'cpu' || c.path === 'auto');
  const rows: SelftestRow[] = [];
  let session: BackendSession | undefined;
  try {
    session = await backend.open(opts.deviceIndex ?? 0);
    const device = `${backend.kind}:${session.device.index} ${session.device.name} (${session.device.arch})`;
    const ks = kernelSettingsText(session.device.kernelSettings);
    // a selftest of kernels built with other settings checks that build, not the default one
    line(`selftest on ${device}, ${cases.length} cases${ks ? `, ${ks}` : ''}`);
    opts.onStart?.(cases.length, device, session.device);
    for (const c of cases) {
      if (opts.signal?.aborted) throw new Error('cancelled');
      const t0 = performance.now();
      const row: SelftestRow = {
        format: typeName(c.type),
        n: c.n,
        k: c.k,
        m: c.m,
        weights: c.weights,
        requested: c.path,
        path: null,
        nmse: null,
        threshold: null,
        result: 'error',
        detail: '',
        ms: 0,
      };
      const data = makeWeights(c.type, c.n, c.k, c.weights, rng);
      const x = rng.normalF32(c.m * c.k);
      let w;
      try {
        w = await session.load({ type: c.type, n: c.n, k: c.k, data, name: `${row.format}[${c.n}x${c.k}]` });
        const res = await session.run(w, x, c.m, { path: c.path, signal: opts.signal });
        row.path = res.path;
        row.outputHash = outputHash(res.y);
        const scheme = arithmeticFor(res.path, row.format, null);
        const lw = w;
        const v = await judgeOutput({
          type: c.type,
          n: c.n,
          k: c.k,
          data,
          x,
          m: c.m,
          got: res.y,
          scheme,
          threshold: thresholdFor(res.path),
          runProbe: async (px, rows) =>
            (await session!.run(lw, px, rows, { path: c.path, signal: opts.signal })).y,
          maxAlternativeWork: 2 ** 25,
          signal: opts.signal,
        });
        const metrics = v.metrics;
        row.nmse = metrics.nmse;
        row.threshold = v.threshold;
        // the selftest's weights are generated with finite scales, so 'not-comparable' is a defect too
        row.result = v.status === 'not-comparable' ? 'fail' : v.status;
        row.arithmetic = scheme.id;
        row.arithmeticNmse = v.arithmeticNmse;
        row.diagnosis = v.diagnosis;
        if (row.result === 'fail') {
          const wst = metrics.worst;
          row.detail =
            `nan=${metrics.nanMismatches} inf=${metrics.infMismatches}` +
            (wst ? ` worst [${wst.row},${wst.col}] ref=${wst.ref} got=${wst.got}` : '');
        }
      } catch (e) {
        // a case cut short by a cancel has no result: the selftest stops, and the rows so far stand
        if (opts.signal?.aborted) throw e;
        row.result = 'error';
        row.detail = (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 3).join(' | ');
      } finally {
        w?.dispose();
      }
      row.ms = performance.now() - t0;
      rows.push(row);
      line(fmtRow(row));
      opts.onRow?.(row, rows.length - 1, cases.length);
    }
  } finally {
    await session?.close();
  }
  const passed = rows.filter((r) => r.result === 'pass').length;
  return { passed, failed: rows.length - passed, rows, device: session?.device ?? null };
}
