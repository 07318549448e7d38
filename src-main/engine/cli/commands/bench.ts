/**
 * `quantscope bench`: times the fused kernels on Llama-3-8B's ffn_down shape (4096 x 14336) for each
 * format and batch size, hot (one weight copy, as llama.cpp's benchmark) and cold (copies rotated past
 * the L2 cache), and prints microseconds, GB/s of weight bytes, TFLOP/s, % of peak and of measured copy
 * bandwidth, and llama.cpp's time for the same shape where it was measured on the same kind of GPU
 * (`--peer`, or the built-in tables of peers.ts).
 */
import { arithmeticFor, isExact } from '../../arithmetic/schemes';
import { checkOutputs, writeOutputAtomic } from '../../output-path';
import { backendFor } from '../../backends';
import { readRegularFile } from '../../gguf/file';
import { CPU_PATHS, CPU_PATH_NOTE } from '../../backends/cpu';
import { createGpuBackend, parseTuning, type GpuTuning } from '../../backends/gpu/backend';
import { CudaRuntime } from '../../backends/gpu/cuda-runtime';
import type { Backend, PathChoice, TimingProtocol } from '../../backends/types';
import { compareOutputs, judge, thresholdFor } from '../../compare';
import { GgmlType, rowBytes, typeName } from '../../ggml-types';
import { memorySource, referenceMatmul } from '../../reference';
import { Rng } from '../../rng';
import { makeWeights } from '../../selftest';
import { table, writeLines } from '../table';
import { builtinPeer, parsePeerOutput, peerUs, type PeerTimes } from '../../peers';
import { LIMITS, PATH_CHOICES, oneLine } from '../../../../src-shared/contract';
import { allDevicesPass, deviceAnalysisLines, deviceOption } from '../devices-output';
import { resolveDevices } from '../../devices/spec';
import { deviceEntry, forEachDevice } from '../../devices/run';
import {
  computeUnitsText,
  analyzeDevices,
  deviceLabel,
  kernelSettingsText,
  type DeviceRunEntry,
} from '../../../../src-shared/devices';
import { outputHash } from '../../run/runner';
import type { DeviceInfo } from '../../backends/types';
import { buildRecord } from '../../records/build';
import type { BenchRow as RecordBenchRow, RunRecord } from '../../records/schema';
import { renderBenchReport } from '../../report/bench-report';
import { termSafe } from '../term';
import { RECORD_HELP, RECORD_OPTIONS, recordStoreOption, saveRunRecord } from '../record-options';
import {
  UsageError,
  choiceOption,
  formatsOption,
  intListOption,
  intOption,
  reportFormatOf,
  stringOption,
  type CliCommand,
  type CliContext,
} from '../framework';

export interface BenchRow {
  format: string;
  m: number;
  protocol: TimingProtocol;
  /** the path asked for (--path) and the kernel path that ran */
  requested: PathChoice;
  path: string;
  medianUs: number;
  spread: number;
  /** interquartile range of the samples (µs) and their count */
  iqrUs: number;
  samples: number;
  minUs: number;
  maxUs: number;
  weightCopies: number;
  gbps: number;
  tflops: number;
  pctPeakBw: number | null;
  pctCopyBw: number | null;
  llamaUs: number | null;
  /** host time to enqueue one multiplication (us): above `medianUs`, the host set the pace */
  hostUs: number | null;
  check: string;
  /** the check's verdict and NMSE (null: it did not run) */
  checked: { status: 'pass' | 'fail'; nmse: number } | null;
}

export const benchCommand: CliCommand = {
  name: 'bench',
  summary: 'time the kernels (hot and cold protocols) on the llama.cpp comparison shape',
  help: `quantscope bench [--backend cuda|hip|cpu] [--device N|all|0,2,5] [--formats q4_0,q4_k,q5_k,q6_k,q8_0] [--m 1,2,3,4,5,8,512]
                 [--n 4096] [--k 14336] [--protocol hot,cold] [--path auto|f32|int8|mma|unfused,...] [--repeats N] [--json FILE]
                 [--tune ROWS,ROWS_BIG,MSPLIT,WARPS,OCTS[,DEPTH]] [--peer FILE] [--report FILE.html|.md|.json]
                 [--records DIR] [--no-record]
  --device    device index (default 0); all: every device; a list (0,2,5; an index may repeat): one
              worker thread per entry, in parallel, a table per device, the speed spread between
              identical cards and their outputs compared bit for bit (cpu: all is device 0)
  --path      one or more kernel paths (comma list), each timed for every format and m
  --tune      small-batch kernel tuning: weight rows per block for m <= MSPLIT and above, warps per
              block, 8-element groups per lane per chunk, chunks in flight per warp (default 2,4,2,4,2,1)
  --peer      llama.cpp's times for the same GPU: the output of its \`test-backend-ops perf -o MUL_MAT\`
              (console or --output sql) run on this machine. Without it the peer column appears only
              for GPUs with built-in figures (H100, H200), labelled with their source.
Timing: GPU events around batches of launches (>= 1 ms each) queued behind a short GPU hold, after
warm-up; median of --repeats samples (default 30). 'host us' is the host's time to enqueue one
multiplication (not part of the samples). '%copy' is against the device's copy bandwidth, measured
by this run when the device is opened, also back to back: batches of copies of up to 256 MB after
warm-up (bytes read + written); the record keeps the figure, its size, repeats and time.
The cpu backend (--backend cpu) has one timing protocol, hot (performance.now() around whole runs,
after one warm-up run); its copy bandwidth is a 16 MiB host copy, best of 5.
  --json      also write every row as JSON to FILE (checked before timing starts; written through a
              temporary file renamed into place)
  --report    write the bench report (the run's record as a self-contained HTML file with its table and
              a chart of every median time beside the peer's, the peer's source named; .md: the same
              as text; .json: its data), checked before timing starts
  --force     let --json or --report replace an existing model file
${RECORD_HELP}
  The record keeps the device, every format, shape, m, protocol and path with its median, IQR,
  spread and sample count, bandwidth, the correctness check, and the peer's times with their source.
  Kernels built or launched with settings other than the defaults (QS_KERNEL_DEFINES, --tune or
  QS_GPU_TUNING, QS_MMA_I8_TILE, ...) are named after the device and in the record
  (device.kernelSettings), so their timings are not taken for the default build's.
  Exit 0: every case ran and passed its correctness check; 1: a case failed it or errored; 2: bad input.`,
  options: {
    backend: { type: 'string' },
    device: { type: 'string' },
    formats: { type: 'string' },
    m: { type: 'string' },
    n: { type: 'string' },
    k: { type: 'string' },
    protocol: { type: 'string' },
    path: { type: 'string' },
    repeats: { type: 'string' },
    json: { type: 'string' },
    tune: { type: 'string' },
    peer: { type: 'string' },
    report: { type: 'string' },
    force: { type: 'boolean', short: 'f' },
    ...RECORD_OPTIONS,
  },
  maxPositionals: 0,
  async run(ctx) {
    const kind = choiceOption(ctx.values, 'backend', ['cuda', 'hip', 'cpu'] as const, 'cuda');
    const deviceSpec = deviceOption(ctx.values);
    const types = formatsOption(ctx.values) ?? [
      GgmlType.Q4_0,
      GgmlType.Q4_K,
      GgmlType.Q5_K,
      GgmlType.Q6_K,
      GgmlType.Q8_0,
    ];
    const ms = intListOption(ctx.values, 'm', [1, 2, 3, 4, 5, 8, 512], 1, LIMITS.maxBatch);
    const n = intOption(ctx.values, 'n', 4096, 1, 1 << 20);
    const k = intOption(ctx.values, 'k', 14336, 1, 1 << 24);
    // the cpu has no device memory to rotate weight copies through: one protocol, hot
    const protos = (stringOption(ctx.values, 'protocol') ?? (kind === 'cpu' ? 'hot' : 'hot,cold'))
      .split(',')
      .map((p) => {
        if (p !== 'hot' && p !== 'cold') throw new UsageError(`--protocol: '${p}' is not hot or cold`);
        if (p === 'cold' && kind === 'cpu')
          throw new UsageError('--protocol cold: the cpu backend has one timing protocol, hot');
        return p as TimingProtocol;
      });
    const paths = (stringOption(ctx.values, 'path') ?? 'auto').split(',').map((p) => {
      const v = p.trim();
      if (!(PATH_CHOICES as readonly string[]).includes(v))
        throw new UsageError(`--path: '${v}' is not one of ${PATH_CHOICES.join(', ')}`);
      if (kind === 'cpu' && !CPU_PATHS.includes(v)) throw new UsageError(`--path ${v}: ${CPU_PATH_NOTE}`);
      return v as PathChoice;
    });
    const repeats = intOption(ctx.values, 'repeats', 30, 3, 10000);
    const jsonPath = stringOption(ctx.values, 'json');
    const reportPath = stringOption(ctx.values, 'report');
    const reportFormat = reportPath ? reportFormatOf(reportPath) : null;
    const outputs = await checkOutputs(
      [
        ...(jsonPath ? [{ option: '--json', path: jsonPath }] : []),
        ...(reportPath ? [{ option: '--report', path: reportPath }] : []),
      ],
      { inputs: peerPathOf(ctx.values), force: Boolean(ctx.values.force) },
    );
    const jsonOut = outputs.find((o) => o.option === '--json');
    const reportOut = outputs.find((o) => o.option === '--report');
    const records = recordStoreOption(ctx.values);
    /** The run's record: saved, then written as the bench report when one was asked for. */
    const finish = async (rec: RunRecord) => {
      await saveRunRecord(ctx, records, () => rec);
      if (reportOut && reportFormat) {
        await writeOutputAtomic(reportOut, renderBenchReport(rec, reportFormat));
        ctx.stderr.write(`report written to ${termSafe(reportOut.path)}\n`);
      }
    };
    const tuneS = stringOption(ctx.values, 'tune');
    const peerFile = stringOption(ctx.values, 'peer');
    let peer: PeerTimes | null = null;
    if (peerFile) {
      let text: string;
      try {
        text = (await readRegularFile(peerFile)).toString('utf8');
      } catch (e) {
        throw new UsageError(
          `--peer: cannot read ${peerFile}: ${(e as NodeJS.ErrnoException).code ?? oneLine(e)}`,
        );
      }
      try {
        peer = parsePeerOutput(text, peerFile);
      } catch (e) {
        throw new UsageError(`--peer: ${(e as Error).message}`);
      }
    }
    for (const t of types) {
      try {
        rowBytes(t, k);
      } catch (e) {
        throw new UsageError(`--k: ${(e as Error).message}`);
      }
    }
    let backend: Backend = backendFor(kind);
    if (tuneS) {
      if (kind !== 'cuda') throw new UsageError('--tune is only wired for the cuda backend');
      let tuning: GpuTuning;
      try {
        tuning = parseTuning(tuneS, '--tune');
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      backend = createGpuBackend('cuda', () => new CudaRuntime(), { tuning });
    }
    const st = await backend.status();
    if (!st.available) throw new UsageError(`${kind} unavailable: ${st.reason ?? 'unknown reason'}`);
    const opts: BenchOptions = { n, k, ms, types, paths, protos, repeats, peer, peerFile, tuneS };
    if (deviceSpec.kind === 'one') {
      const r = await benchDevice(backend, deviceSpec.index, opts, {
        out: (l) => ctx.stdout.write(l + '\n'),
        err: (l) => ctx.stderr.write(l + '\n'),
      });
      if (jsonOut)
        await writeOutputAtomic(
          jsonOut,
          JSON.stringify({ device: r.dev, n, k, peer: r.peer?.label ?? null, rows: r.rows }, null, 1),
        );
      ctx.stdout.write(benchTable(r.rows, r.peer));
      await finish(benchRecord(kind, [deviceSpec.index], opts, r.dev, r.peer, r.rows, 'done'));
      // a case that errored or whose output failed its check is a failed benchmark
      return r.jobs.every((j) => j.status === 'pass') ? 0 : 1;
    }
    if (tuneS) throw new UsageError('--tune runs on one device: give --device N');
    let devices: number[];
    try {
      devices = resolveDevices(deviceSpec, st.devices.length, kind);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    // every device benchmarks the same weights and activations (the same seed), in parallel
    const outcomes = await forEachDevice(backend, devices, (b, index, slot) => {
      const tag = `[slot ${slot} ${kind}:${index}] `;
      return benchDevice(b, index, opts, {
        out: (l) => ctx.stdout.write(tag + l + '\n'),
        err: (l) => ctx.stderr.write(tag + l + '\n'),
      });
    });
    const entries = outcomes.map((o) =>
      deviceEntry(
        o.slot,
        kind,
        o.index,
        o.ok ? o.value.dev : (st.devices[o.index] ?? null),
        o.ok ? 'done' : 'failed',
        o.ok ? undefined : o.error,
      ),
    );
    for (const o of outcomes) {
      ctx.stdout.write(`\n${deviceLabel(entries[o.slot])} (slot ${o.slot}):\n`);
      ctx.stdout.write(o.ok ? benchTable(o.value.rows, o.value.peer) : `ERROR: ${o.error}\n`);
    }
    const jobs = outcomes.flatMap((o) => (o.ok ? o.value.jobs.map((j) => ({ ...j, slot: o.slot })) : []));
    const analysis = analyzeDevices(entries, jobs);
    writeLines(ctx.stdout, deviceAnalysisLines(analysis));
    if (jsonOut)
      await writeOutputAtomic(
        jsonOut,
        JSON.stringify(
          {
            n,
            k,
            devices: entries,
            deviceAnalysis: analysis,
            results: outcomes.map((o) =>
              o.ok
                ? { slot: o.slot, device: o.value.dev, peer: o.value.peer?.label ?? null, rows: o.value.rows }
                : { slot: o.slot, error: o.error },
            ),
          },
          null,
          1,
        ),
      );
    const ok = outcomes.filter((o) => o.ok);
    const first = ok[0]?.ok ? ok[0].value : null;
    await finish(
      benchRecord(
        kind,
        devices,
        opts,
        first?.dev ?? null,
        first?.peer ?? null,
        outcomes.flatMap((o) =>
          o.ok ? o.value.rows.map((r) => ({ ...r, slot: o.slot, deviceIndex: o.index })) : [],
        ),
        entries.some((e) => e.status === 'failed') ? 'failed' : 'done',
        entries,
      ),
    );
    return allDevicesPass(analysis) ? 0 : 1;
  },
};

/** The record of a bench: the request, the first device, every device's part and every row. */
function benchRecord(
  kind: string,
  devices: number[],
  opts: BenchOptions,
  dev: DeviceInfo | null,
  peer: PeerTimes | null,
  rows: (BenchRow & { slot?: number; deviceIndex?: number })[],
  status: string,
  entries?: DeviceRunEntry[],
) {
  const { n, k, types, ms, paths, protos, repeats, tuneS, peerFile } = opts;
  return buildRecord({
    kind: 'bench',
    device: dev,
    model: null,
    ...(entries ? { devices: entries } : {}),
    request: {
      backend: kind,
      deviceIndex: devices[0],
      ...(devices.length > 1 || entries ? { devices } : {}),
      formats: types.map((t) => typeName(t)),
      batchSizes: ms,
      path: paths.join(','),
      timing: protos.join(','),
      repeats,
      shape: { n, k },
      ...(tuneS ? { tune: tuneS } : {}),
    },
    status,
    results: [],
    bench: {
      shape: { n, k },
      repeats,
      protocols: protos,
      paths,
      peer: peer
        ? {
            label: peer.label,
            source: opts.peer ? `--peer ${peerFile}` : 'built-in table (peers.ts)',
            device: peer.device,
            ...(peer.commit ? { commit: peer.commit } : {}),
            ...(peer.measuredAt ? { measuredAt: peer.measuredAt } : {}),
          }
        : null,
      rows: rows.map((r) => ({
        ...benchRecordRow(r, n, k),
        ...(r.slot !== undefined ? { slot: r.slot, deviceIndex: r.deviceIndex } : {}),
      })),
    },
  });
}

export interface BenchOptions {
  n: number;
  k: number;
  ms: number[];
  types: number[];
  paths: PathChoice[];
  protos: TimingProtocol[];
  repeats: number;
  peer: PeerTimes | null;
  peerFile: string | undefined;
  tuneS: string | undefined;
}

/** One timed job of a device, for the side-by-side view (speed per device, outputs of identical cards). */
interface BenchJob {
  tensor: string;
  m: number;
  status: 'pass' | 'fail' | 'error';
  outputHash?: string;
  timing: { medianUs: number } | null;
}

/**
 * The benchmark on one device: opens it, prints its header lines, times every case, closes it.
 * Exported for the tests, which drive it with a stand-in backend.
 */
export async function benchDevice(
  backend: Backend,
  deviceIndex: number,
  opts: BenchOptions,
  log: { out(line: string): void; err(line: string): void },
): Promise<{ dev: DeviceInfo; peer: PeerTimes | null; rows: BenchRow[]; jobs: BenchJob[] }> {
  const { n, k, ms, types, paths, protos, repeats, peerFile } = opts;
  let peer = opts.peer;
  const jobs: BenchJob[] = [];
  const session = await backend.open(deviceIndex);
  const dev = session.device;
  // this run's copy bandwidth, measured once before any timing and kept in its record
  await session.copyBandwidth?.();
  const ks = kernelSettingsText(dev.kernelSettings);
  log.out(
    `bench on ${backend.kind}:${dev.index} ${dev.name} (${dev.arch}, ${computeUnitsText(backend.kind, dev.computeUnits)}), peak ${dev.peakBandwidthGBs?.toFixed(0) ?? '?'} GB/s, ` +
      `measured copy ${dev.copyBandwidthGBs?.toFixed(0) ?? '?'} GB/s, shape n=${n} k=${k}` +
      (ks ? `, ${ks}` : ''),
  );
  peer ??= builtinPeer(dev.name);
  if (peer && peerFile) {
    // test-backend-ops' SQL leaves device_description empty: say so rather than imply it is this device
    if (!peer.device) log.err(`bench: note: ${peerFile} does not name the device its times were measured on`);
    else if (peer.device !== dev.name)
      log.err(`bench: note: the --peer times were measured on ${peer.device}, this is ${dev.name}`);
  }
  log.out(
    peer
      ? `peer: ${peer.label}`
      : `peer: none for ${dev.name} (run llama.cpp's test-backend-ops perf -o MUL_MAT here and pass --peer FILE)`,
  );
  const rows: BenchRow[] = [];
  const rng = new Rng(42);
  let warm = false;
  try {
    for (const type of types) {
      const fmt = typeName(type);
      const data = makeWeights(type, n, k, 'random', rng);
      const w = await session.load({ type, n, k, data, name: `${fmt}[${n}x${k}]` });
      try {
        for (const m of ms) {
          const x = rng.normalF32(m * k);
          for (const path of paths) {
            // a correctness check on the benchmark shape itself (first rows against the reference)
            let check = '-';
            let hash: string | undefined;
            let verdict: 'pass' | 'fail' = 'pass';
            let checked: { status: 'pass' | 'fail'; nmse: number } | null = null;
            try {
              const res = await session.run(w, x, m, { path });
              hash = outputHash(res.y);
              const nr = Math.min(n, 64);
              const scheme = arithmeticFor(res.path, fmt, null);
              const ref = await referenceMatmul(
                memorySource(type, nr, k, data.subarray(0, rowBytes(type, k) * nr)),
                x,
                m,
                { arithmetic: isExact(scheme) ? undefined : scheme },
              );
              const got = new Float32Array(m * nr);
              for (let i = 0; i < m; i++) got.set(res.y.subarray(i * n, i * n + nr), i * nr);
              const met = compareOutputs(ref, got, m, nr);
              verdict = judge(met, thresholdFor(res.path));
              checked = { status: verdict, nmse: met.nmse };
              check = `${verdict} ${met.nmse.toExponential(1)}`;
            } catch (e) {
              check = `error: ${oneLine(e)}`;
              log.err(`${fmt} m=${m} --path ${path}: ${check}`);
              jobs.push({ tensor: `${fmt} ${path}`, m, status: 'error', timing: null });
              continue;
            }
            if (!warm) {
              // the GPU idles at a low clock: keep it busy for ~0.5 s before the first sample
              warm = true;
              const t0 = performance.now();
              while (performance.now() - t0 < 500)
                await session.time(w, x, m, { protocol: 'hot', path, repeats: 5 });
            }
            for (const protocol of protos) {
              try {
                const t = await session.time(w, x, m, { protocol, path, repeats });
                const s = t.medianUs * 1e-6;
                const gbps = w.bytes / s / 1e9;
                rows.push({
                  format: fmt,
                  m,
                  protocol,
                  requested: path,
                  path: t.path,
                  medianUs: t.medianUs,
                  spread: t.spread,
                  iqrUs: iqr(t.samplesUs),
                  samples: t.samplesUs.length,
                  minUs: t.minUs,
                  maxUs: t.maxUs,
                  weightCopies: t.weightCopies,
                  gbps,
                  tflops: (2 * m * n * k) / s / 1e12,
                  pctPeakBw: dev.peakBandwidthGBs ? (100 * gbps) / dev.peakBandwidthGBs : null,
                  pctCopyBw: dev.copyBandwidthGBs ? (100 * gbps) / dev.copyBandwidthGBs : null,
                  llamaUs: peer ? peerUs(peer, fmt, n, k, m) : null,
                  hostUs: t.hostUsPerCall ?? null,
                  check,
                  checked,
                });
                jobs.push({
                  tensor: `${fmt} ${path} ${protocol}`,
                  m,
                  status: verdict,
                  outputHash: hash,
                  timing: { medianUs: t.medianUs },
                });
              } catch (e) {
                log.err(`${fmt} m=${m} ${protocol}: ${oneLine(e)}`);
                jobs.push({ tensor: `${fmt} ${path} ${protocol}`, m, status: 'error', timing: null });
              }
            }
          }
        }
      } finally {
        w.dispose();
      }
    }
  } finally {
    await session.close();
  }
  return { dev, peer, rows, jobs };
}

/** The table of one device's timings. */
function benchTable(rows: BenchRow[], peer: PeerTimes | null): string {
  const f = (v: number | null, d = 1) => (v === null ? '-' : v.toFixed(d));
  return table(
    [
      'format',
      'm',
      'proto',
      'path',
      'us',
      'spread',
      'GB/s',
      'TFLOP/s',
      '%peak',
      '%copy',
      ...(peer ? ['llama.cpp us', 'vs llama'] : []),
      'host us',
      'check',
    ],
    rows.map((r) => [
      r.format,
      String(r.m),
      r.protocol,
      r.path,
      f(r.medianUs, 2),
      f(r.spread * 100, 0) + '%',
      f(r.gbps, 0),
      f(r.tflops, 2),
      f(r.pctPeakBw, 0),
      f(r.pctCopyBw, 0),
      ...(peer ? [f(r.llamaUs, 2), r.llamaUs ? `${(r.llamaUs / r.medianUs).toFixed(2)}x` : '-'] : []),
      f(r.hostUs, 1),
      r.check,
    ]),
    [
      false,
      true,
      false,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      ...(peer ? [true, true] : []),
      true,
      false,
    ],
  );
}

/** Interquartile range of samples (µs), linear interpolation between order statistics. */
export function iqr(samplesUs: readonly number[]): number {
  const s = [...samplesUs].sort((a, b) => a - b);
  const q = (p: number) => {
    const pos = p * (s.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  };
  return s.length === 0 ? 0 : q(0.75) - q(0.25);
}

/** A bench row as its record keeps it. */
function benchRecordRow(r: BenchRow, n: number, k: number): RecordBenchRow {
  const c = r.checked;
  return {
    format: r.format,
    n,
    k,
    m: r.m,
    protocol: r.protocol,
    requested: r.requested,
    path: r.path,
    medianUs: r.medianUs,
    iqrUs: r.iqrUs,
    spread: r.spread,
    samples: r.samples,
    minUs: r.minUs,
    maxUs: r.maxUs,
    weightCopies: r.weightCopies,
    gbps: r.gbps,
    tflops: r.tflops,
    pctPeak: r.pctPeakBw,
    pctCopy: r.pctCopyBw,
    peerUs: r.llamaUs,
    hostUs: r.hostUs,
    check: {
      status: c?.status ?? 'error',
      nmse: c && Number.isFinite(c.nmse) ? c.nmse : null,
      detail: r.check,
    },
  };
}

/** The --peer file, an input no output may overwrite. */
function peerPathOf(values: CliContext['values']): string[] {
  const p = stringOption(values, 'peer');
  return p ? [p] : [];
}
