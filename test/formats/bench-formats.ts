/**
 * Format benchmark (a script, not a test): dequantize and quantize throughput per format, single thread.
 *   npx tsx test/formats/bench-formats.ts [--rows 4096] [--cols 14336] [--types Q4_K,Q6_K] [--effort fast|balanced|ggml]
 * Prints M values/s by wall clock and by process CPU time (the latter is steadier on a shared machine).
 */
import {
  codecFor,
  dequantize,
  quantize,
  setQuantizeEffort,
  type QuantizeEffort,
} from '../../src-main/engine/formats';
import { SUPPORTED_TYPES, typeByName } from '../../src-main/engine/ggml-types';
import { normals } from './helpers';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

const rows = Number(arg('rows', '1024'));
const cols = Number(arg('cols', '4096'));
const qrows = Math.max(1, Math.min(rows, Number(arg('qrows', '64'))));
const types = arg('types', SUPPORTED_TYPES.map((t) => t.name).join(','))
  .split(',')
  .map((n) => typeByName(n)?.id ?? -1);
setQuantizeEffort(arg('effort', 'fast') as QuantizeEffort);

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};

function time(f: () => void, reps: number): { wall: number; cpu: number } {
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const w0 = performance.now();
    const c0 = cpuMs();
    f();
    wall = Math.min(wall, performance.now() - w0);
    cpu = Math.min(cpu, cpuMs() - c0);
  }
  return { wall, cpu };
}

const x = normals(qrows * cols, 42);
console.log(`dequantize ${rows}x${cols}, quantize ${qrows}x${cols}, effort ${arg('effort', 'fast')}`);
console.log('type   dequant ms  dq Mv/s(wall)  dq Mv/s(cpu)   q Mv/s(wall)  q Mv/s(cpu)');
for (const id of types) {
  const c = codecFor(id);
  const qrow = quantize(id, x, qrows, cols);
  const rb = qrow.length / qrows;
  // tile the quantized rows up to the full tensor
  const data = new Uint8Array(rb * rows);
  for (let r = 0; r < rows; r++) data.set(qrow.subarray((r % qrows) * rb, ((r % qrows) + 1) * rb), r * rb);
  const dq = time(() => dequantize(id, data, rows, cols), 3);
  const q = time(() => quantize(id, x, qrows, cols), 3);
  const n = rows * cols;
  const qn = qrows * cols;
  console.log(
    `${c.name.padEnd(5)} ${dq.wall.toFixed(0).padStart(10)} ${(n / dq.wall / 1e3).toFixed(1).padStart(14)} ${(n / dq.cpu / 1e3).toFixed(1).padStart(13)}` +
      ` ${(qn / q.wall / 1e3).toFixed(1).padStart(14)} ${(qn / q.cpu / 1e3).toFixed(1).padStart(12)}`,
  );
}
