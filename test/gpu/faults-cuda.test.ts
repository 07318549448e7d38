// GPU faults on a real CUDA device (skipped, with the reason printed, where there is none): a tensor
// too large for the free memory, a user code object that is not one, one without the kernel's symbol,
// and a user kernel that writes where it must not (an illegal address, which leaves CUDA's context
// unusable). Each is an error for its tensor with one line naming it, the run goes on (after the
// illegal address in a fresh device process), and the device memory in use, read with cuMemGetInfo, comes
// back to where it was. test/hip/faults.test.ts checks the same over the fake HIP runtime.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli/helpers';
import { cudaBackend } from '../../src-main/engine/backends/cuda';
import { CudaRuntime } from '../../src-main/engine/backends/gpu/cuda-runtime';
import { FREE_MARGIN } from '../../src-main/engine/backends/gpu/memory';
import { encodeGguf } from '../../src-main/engine/gguf/encode';
import { GgmlType } from '../../src-main/engine/ggml-types';
import { Rng } from '../../src-main/engine/rng';

const status = await cudaBackend.status();
if (!status.available) console.log(`GPU fault tests skipped: cuda unavailable: ${status.reason}`);

const SAMPLE = fileURLToPath(new URL('../../samples/tiny.gguf', import.meta.url));
const MiB = 2 ** 20;
const dir = mkdtempSync(path.join(tmpdir(), 'qs-cuda-faults-'));
const saved: Record<string, string | undefined> = {};
const VARS = ['Q8_0_MATMUL_CUBIN', 'QS_KERNEL_CACHE'];
/** holds the context for the whole file and reads the free memory */
let probe: CudaRuntime;

/** Q8_0 weights of n rows by k: scale 1/256, random bytes. */
function q8(n: number, k: number, rng: Rng): Uint8Array {
  const b = new Uint8Array((n * k * 34) / 32);
  for (let i = 0; i < b.length; i += 34) {
    b[i] = 0x00;
    b[i + 1] = 0x1c; // fp16 2^-8
    for (let j = 2; j < 34; j++) b[i + j] = Math.floor(rng.next() * 256);
  }
  return b;
}

/** A user kernel of the seed ABI, compiled with NVRTC for this device. */
function userKernel(file: string, body: string, name = 'q8_0_matmul_kernel'): string {
  const src = `extern "C" __global__ void ${name}(const float* x, const unsigned char* w, float* y, int m, int n, int k) { ${body} }`;
  const arch = status.devices[0].arch;
  writeFileSync(path.join(dir, file), probe.compile(src, file.replace(/\.\w+$/, '.cu'), { arch }));
  return path.join(dir, file);
}

const free = () => probe.memGetInfo().free;
/** memory in use is back where it was: the same free bytes, or within one 2 MiB allocation granule */
function expectReturned(before: number, what: string): void {
  const after = free();
  console.log(`${what}: ${before} bytes free before, ${after} after`);
  expect(Math.abs(after - before)).toBeLessThanOrEqual(2 * MiB);
}
const SAMPLE_TENSORS = ['blk.0.attn_output.weight', 'blk.0.ffn_gate.weight', 'blk.1.attn_k.weight'];

beforeAll(async () => {
  if (!status.available) return;
  for (const k of VARS) saved[k] = process.env[k];
  process.env.QS_KERNEL_CACHE = path.join(dir, 'cache');
  probe = new CudaRuntime();
  probe.useDevice(0);
  // once before measuring: kernels built and cached, the context's per-thread memory sized
  const warm = await verify(SAMPLE, SAMPLE_TENSORS);
  if (warm.code !== 0) throw new Error(`warm-up run failed:\n${warm.out}${warm.err}`);
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  probe?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function verify(model: string, tensors: string[]) {
  return cli(
    'verify',
    model,
    '--backend',
    'cuda',
    '--tensors',
    tensors.join(','),
    '--batch',
    '1,8',
    '--no-record',
  );
}
const rowsOf = (out: string, name: string) => out.split('\n').filter((l) => l.startsWith(name + ' '));

describe.skipIf(!status.available)('GPU faults on a CUDA device', () => {
  it('a tensor too large for the free memory: its error names the sizes, the small one PASSes, memory returns', async () => {
    const rng = new Rng(5);
    const model = path.join(dir, 'two.gguf');
    writeFileSync(
      model,
      encodeGguf({
        metadata: [],
        tensors: [
          { name: 'big', type: GgmlType.Q8_0, dims: [16384, 4096], data: q8(4096, 16384, rng) }, // 68 MiB
          { name: 'small', type: GgmlType.Q8_0, dims: [512, 64], data: q8(64, 512, rng) },
        ],
      }),
    );
    // leave 32 MiB beyond the backend's margin free
    const hog = probe.malloc(free() - FREE_MARGIN - 32 * MiB);
    try {
      const before = free();
      const r = await verify(model, ['big', 'small']);
      expect(r.code).toBe(1);
      expect(rowsOf(r.out, 'big')[0]).toMatch(
        /ERROR .*big \(Q8_0 \[4096\]\[16384\]\): needs 68\.\d MiB on cuda:0, only \d+\.\d MiB free/,
      );
      expect(rowsOf(r.out, 'small').every((l) => /PASS/.test(l))).toBe(true);
      expectReturned(before, 'too large');
    } finally {
      probe.free(hog);
    }
  });

  it('a code object that is not one, and one without the kernel symbol: every Q8_0 tensor is an error, memory returns', async () => {
    const junk = path.join(dir, 'junk.cubin');
    writeFileSync(junk, Buffer.from('this is not a code object'.repeat(40)));
    const other = userKernel('other.cubin', '', 'some_other_kernel');
    for (const [file, why] of [
      [junk, /CUDA_ERROR_INVALID_IMAGE|invalid|not a code object/i],
      [other, /q8_0_matmul_kernel/],
    ] as const) {
      process.env.Q8_0_MATMUL_CUBIN = file;
      const before = free();
      const r = await verify(SAMPLE, SAMPLE_TENSORS);
      delete process.env.Q8_0_MATMUL_CUBIN;
      expect(r.code).toBe(1);
      for (const name of ['blk.0.attn_output.weight', 'blk.1.attn_k.weight'])
        expect(rowsOf(r.out, name).every((l) => /ERROR/.test(l))).toBe(true);
      expect(rowsOf(r.out, 'blk.0.ffn_gate.weight').every((l) => /PASS/.test(l))).toBe(true); // Q4_0: ours
      expect(r.out).toMatch(why);
      expectReturned(before, path.basename(file));
    }
  });

  it('a kernel that writes to an illegal address: that tensor is an error, its device process ends, the run goes on in a fresh one', async () => {
    // CUDA keeps a process's device unusable after this fault, so user kernels run in a device process
    process.env.Q8_0_MATMUL_CUBIN = userKernel('oob.cubin', '*(volatile float*)16 = 1.f;');
    const before = free();
    // file order: Q8_0, Q4_0, Q4_K, Q8_0, Q4_K; each Q8_0 tensor faults, the others run in the next process
    const tensors = [
      'blk.0.attn_output.weight',
      'blk.0.ffn_gate.weight',
      'blk.0.ffn_up.weight',
      'blk.1.attn_k.weight',
      'blk.1.attn_output.weight',
    ];
    const r = await verify(SAMPLE, tensors);
    delete process.env.Q8_0_MATMUL_CUBIN;
    console.log(r.out);
    expect(r.code).toBe(1);
    for (const name of ['blk.0.attn_output.weight', 'blk.1.attn_k.weight'])
      expect(rowsOf(r.out, name)[0]).toMatch(
        /ERROR .*CUDA_ERROR_ILLEGAL_ADDRESS.*the cuda:0 device process ends and the run goes on in a fresh one/,
      );
    for (const name of ['blk.0.ffn_gate.weight', 'blk.0.ffn_up.weight', 'blk.1.attn_output.weight'])
      expect(rowsOf(r.out, name).every((l) => /PASS/.test(l))).toBe(true);
    // the engine's process (this one) is untouched, and the device processes are gone with their memory
    expectReturned(before, 'illegal address');
  });
});
