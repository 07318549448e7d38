/**
 * CPU benchmark: the float64 reference and the cpu backend on a random 4096 x 14336 Q4_K tensor
 * (m = 1 and 8), the other quantized formats at m = 1, peak RSS growth while verifying one tensor and
 * while the reference streams a 499 MB tensor that is never in memory, the error-grid speed and the
 * heatmap's paint of a 512 x 4096 grid (the app's largest; its goal is 100 ms).
 *
 *   node --import tsx scripts/bench.ts [--json out.json] [--repeats N] [--full]
 *
 * By default 256 distinct rows are quantized and tiled to 4096 rows (quantizing all 4096 rows in JS
 * takes tens of seconds and does not change the timings: the weights stream from memory either way);
 * --full quantizes every row.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GgufFile } from '../src-main/engine/gguf';
import { makeModel } from '../src-main/engine/models/make-model';
import { PRESETS } from '../src-main/engine/models/presets';
import os from 'node:os';
import { cpuBackend } from '../src-main/engine/backends/cpu';
import { compareOutputs, errorGrid } from '../src-main/engine/compare';
import { quantize } from '../src-main/engine/formats';
import { GgmlType, rowBytes, typeName } from '../src-main/engine/ggml-types';
import { memorySource, referenceMatmul, type WeightSource } from '../src-main/engine/reference';
import { Rng } from '../src-main/engine/rng';
import { DEFAULT_LUT, paintGrid } from '../src-renderer/src/lib/colormap';
import { poolSize, shutdownPool } from '../src-main/engine/workers';

const N = 4096;
const K = 14336;

interface Row {
  type: string;
  n: number;
  k: number;
  m: number;
  refMs: number;
  cpuMs: number;
  /** process CPU time (all threads) of the median-CPU run */
  refCpuMs: number;
  cpuCpuMs: number;
  speedup: number;
  cpuGBs: number;
  nmse: number;
}

function args() {
  const a = process.argv.slice(2);
  let json: string | null = null;
  let repeats = 3;
  let full = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--json') json = a[++i] ?? null;
    else if (a[i] === '--repeats') repeats = Number(a[++i]);
    else if (a[i] === '--full') full = true;
    else throw new Error(`unknown argument '${a[i]}' (use --json <path>, --repeats <n>, --full)`);
  }
  if (json === null && a.includes('--json')) throw new Error('--json needs a path');
  if (!Number.isInteger(repeats) || repeats < 1 || repeats > 100) throw new Error('--repeats must be 1..100');
  return { json, repeats, full };
}

function tensor(type: number, full: boolean, seed: number): Uint8Array {
  const distinct = full ? N : 256;
  const rng = new Rng(seed);
  const q = quantize(type, rng.normalF32(distinct * K, 0.02), distinct, K);
  if (distinct === N) return q;
  const out = new Uint8Array(N * rowBytes(type, K));
  for (let o = 0; o < out.length; o += q.length)
    out.set(q.subarray(0, Math.min(q.length, out.length - o)), o);
  return out;
}

/**
 * Median wall time and median process CPU time (ms) of `repeats` runs. The pool's workers are threads
 * of this process, so the CPU time counts all of them: on a shared, busy machine, CPU time / threads
 * estimates the wall time the same work takes on idle cores.
 */
async function median(repeats: number, f: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const u = process.cpuUsage();
    const a = performance.now();
    await f();
    wall.push(performance.now() - a);
    const d = process.cpuUsage(u);
    cpu.push((d.user + d.system) / 1000);
  }
  const mid = (v: number[]) => v.sort((x, y) => x - y)[Math.floor((v.length - 1) / 2)];
  return { wall: mid(wall), cpu: mid(cpu) };
}

async function main() {
  const { json, repeats, full } = args();
  const session = await cpuBackend.open(0);
  const rows: Row[] = [];
  const x8 = new Rng(99).normalF32(8 * K);
  const x1 = x8.slice(0, K);
  const cases: [number, number][] = [
    [GgmlType.Q4_K, 1],
    [GgmlType.Q4_K, 8],
    [GgmlType.Q4_0, 1],
    [GgmlType.Q5_K, 1],
    [GgmlType.Q6_K, 1],
    [GgmlType.Q8_0, 1],
  ];
  let rss: { baselineMB: number; peakMB: number; growthMB: number; weightMB: number } | null = null;
  let lastType = -1;
  let data: Uint8Array = new Uint8Array(0);
  for (const [type, m] of cases) {
    if (type !== lastType) {
      process.stdout.write(`quantizing ${typeName(type)} ${N}x${K}${full ? '' : ' (256 rows tiled)'}... `);
      const t = performance.now();
      data = tensor(type, full, type);
      console.log(`${((performance.now() - t) / 1000).toFixed(1)} s`);
      lastType = type;
    }
    const x = m === 1 ? x1 : x8;
    const src = memorySource(type, N, K, data);
    const w = await session.load({ type, n: N, k: K, data });
    // warm-up (starts the workers, JIT-compiles both paths)
    const ref = await referenceMatmul(src, x, m);
    const y = (await session.run(w, x, m)).y;
    const nmse = compareOutputs(ref, y, m, N).nmse;
    if (type === GgmlType.Q4_K && m === 1) {
      // peak RSS growth while verifying one tensor (reference + cpu run + compare)
      if (global.gc) global.gc();
      const base = process.memoryUsage().rss;
      let peak = base;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      const r = await referenceMatmul(src, x, m);
      const g = (await session.run(w, x, m)).y;
      compareOutputs(r, g, m, N);
      peak = Math.max(peak, process.memoryUsage().rss);
      clearInterval(timer);
      rss = {
        baselineMB: base / 2 ** 20,
        peakMB: peak / 2 ** 20,
        growthMB: (peak - base) / 2 ** 20,
        weightMB: data.length / 2 ** 20,
      };
    }
    const refT = await median(repeats, () => referenceMatmul(src, x, m));
    const cpuT = await median(repeats, () => session.run(w, x, m));
    const refMs = refT.wall;
    const cpuMs = cpuT.wall;
    w.dispose();
    rows.push({
      type: typeName(type),
      n: N,
      k: K,
      m,
      refMs,
      cpuMs,
      refCpuMs: refT.cpu,
      cpuCpuMs: cpuT.cpu,
      speedup: refMs / cpuMs,
      cpuGBs: data.length / (cpuMs / 1000) / 1e9,
      nmse,
    });
    const r = rows[rows.length - 1];
    console.log(
      `${r.type.padEnd(5)} m=${String(m).padEnd(2)} reference ${refMs.toFixed(0).padStart(6)} ms   cpu ${cpuMs
        .toFixed(0)
        .padStart(
          6,
        )} ms   x${r.speedup.toFixed(2)}   ${r.cpuGBs.toFixed(2)} GB/s   nmse ${nmse.toExponential(2)}`,
    );
  }
  await session.close();

  // bounded memory: a Q8_0 tensor 8x larger than the one above (32768 x 14336, 499 MB) that never
  // exists in memory: the source synthesizes each row block when asked
  const bigN = 32768;
  const rb8 = rowBytes(GgmlType.Q8_0, K);
  const block = quantize(GgmlType.Q8_0, new Rng(3).normalF32(64 * K, 0.02), 64, K);
  const streamed: WeightSource = {
    type: GgmlType.Q8_0,
    n: bigN,
    k: K,
    readRows: async (start, count) => {
      const out = new Uint8Array(count * rb8);
      for (let r = 0; r < count; r++)
        out.set(block.subarray(((start + r) % 64) * rb8, (((start + r) % 64) + 1) * rb8), r * rb8);
      return out;
    },
  };
  const base2 = process.memoryUsage().rss;
  let peak2 = base2;
  const timer2 = setInterval(() => (peak2 = Math.max(peak2, process.memoryUsage().rss)), 5);
  const t2 = performance.now();
  await referenceMatmul(streamed, x1, 1);
  const streamMs = performance.now() - t2;
  clearInterval(timer2);
  peak2 = Math.max(peak2, process.memoryUsage().rss);
  const streamedRss = {
    tensorMB: (bigN * rb8) / 2 ** 20,
    growthMB: (peak2 - base2) / 2 ** 20,
    referenceMs: streamMs,
  };

  // error grid: 512 x 4096 output into 512 x 1024 cells
  const gm = 512;
  const gn = 4096;
  const gref = new Rng(5).normalF32(gm * gn);
  const g64 = Float64Array.from(gref);
  const grid = await median(7, async () =>
    errorGrid(g64, gref, gm, gn, { maxRows: 512, maxCols: 1024, metric: 'abs' }),
  );
  const gridMs = grid.wall;

  // the heatmap's paint of a 512 x 4096 grid into RGBA, as the app's canvas gets it: the first paint
  // (before the JIT has optimised the loop, what a user waits for on the first draw) and the median
  // of the next 7
  const cells = Float64Array.from(gref, (v) => Math.abs(v) * 1e-6);
  const rgba = new Uint8ClampedArray(gm * gn * 4);
  const paint = () => paintGrid(cells, gm, gn, { lo: -9, hi: -5 }, rgba, DEFAULT_LUT);
  const p0 = performance.now();
  paint();
  const paintFirstMs = performance.now() - p0;
  const paintMs = (await median(7, async () => paint())).wall;

  // opening a ~5 GB model reads only its header: Llama-3-8B shapes at Q5_K_M, data a sparse hole
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qs-bench-'));
  const bigModel = path.join(dir, 'llama-3-8b-q5_k_m.gguf');
  await makeModel({ out: bigModel, preset: PRESETS['llama-3-8b'], ftype: 'q5_k_m', seed: 1, fill: 'sparse' });
  const modelBytes = statSync(bigModel).size;
  const opens: number[] = [];
  let tensorCount = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const f = await GgufFile.open(bigModel);
    opens.push(performance.now() - t0);
    tensorCount = f.header.tensors.length;
    await f.close();
  }
  rmSync(dir, { recursive: true, force: true });
  opens.sort((a, b) => a - b);
  const openModel = { fileGB: modelBytes / 1e9, tensors: tensorCount, medianMs: opens[2], minMs: opens[0] };
  console.log(
    `open ${openModel.fileGB.toFixed(2)} GB model (${tensorCount} tensors, 128256-token vocabulary): median ${openModel.medianMs.toFixed(1)} ms`,
  );

  const result = {
    when: new Date().toISOString(),
    openModel,
    cpu: os.cpus()[0]?.model ?? 'cpu',
    threads: poolSize(),
    loadAverage: os.loadavg(),
    repeats,
    tiledRows: !full,
    rows,
    rssWhileVerifying: rss,
    rssStreamedReference: streamedRss,
    errorGrid512x4096to512x1024Ms: gridMs,
    errorGrid512x4096to512x1024CpuMs: grid.cpu,
    heatmapPaint512x4096FirstMs: paintFirstMs,
    heatmapPaint512x4096Ms: paintMs,
  };
  console.log('');
  const t = poolSize();
  console.log(
    `| type | m | reference ms | cpu backend ms | speed-up | reference CPU ms / ${t} threads | cpu backend CPU ms / ${t} threads | cpu GB/s | NMSE cpu vs ref |`,
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.type} | ${r.m} | ${r.refMs.toFixed(0)} | ${r.cpuMs.toFixed(0)} | ${r.speedup.toFixed(2)} | ${(r.refCpuMs / t).toFixed(0)} | ${(r.cpuCpuMs / t).toFixed(0)} | ${r.cpuGBs.toFixed(2)} | ${r.nmse.toExponential(2)} |`,
    );
  }
  if (rss) {
    console.log(
      `peak RSS growth while verifying one Q4_K ${N}x${K} tensor (${rss.weightMB.toFixed(1)} MB of weights): ${rss.growthMB.toFixed(1)} MB`,
    );
  }
  console.log(
    `peak RSS growth of the reference on a streamed Q8_0 ${bigN}x${K} tensor (${streamedRss.tensorMB.toFixed(0)} MB, never in memory): ${streamedRss.growthMB.toFixed(1)} MB (${(streamedRss.referenceMs / 1000).toFixed(1)} s)`,
  );
  console.log(
    `errorGrid 512x4096 -> 512x1024: ${gridMs.toFixed(1)} ms wall, ${grid.cpu.toFixed(1)} ms CPU (median of 7)`,
  );
  console.log(
    `heatmap paint 512x4096: first ${paintFirstMs.toFixed(1)} ms, then ${paintMs.toFixed(1)} ms (median of 7; goal 100 ms)`,
  );
  console.log(
    `threads ${poolSize()}, load average ${os
      .loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}`,
  );
  if (json) {
    writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
    console.log(`wrote ${json}`);
  }
}

main()
  .catch((e: unknown) => {
    console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  })
  .finally(() => shutdownPool());
