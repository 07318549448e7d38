import { describe, expect, it } from 'vitest';
import { FORMATS } from '../../src-main/engine/formats/registry';
import { builtinPeer, parsePeerOutput, peerUs } from '../../src-main/engine/peers';

// the shape of llama.cpp's test-backend-ops console output
const CONSOLE = `Testing 2 devices

Backend 1/2: CUDA0
  Device description: NVIDIA H200
  Device memory: 143156 MB (142578 MB free)

  MUL_MAT(type_a=q4_0,type_b=f32,m=4096,n=1,k=14336,bs=[1,1],nr=[1,1],per=[0,1,2,3],k_v=0,o=1):                69620 runs -    14.37 us/run - 117.44 MFLOP/run -   8.17 TFLOPS
  MUL_MAT(type_a=q4_K,type_b=f32,m=4096,n=8,k=14336,bs=[1,1],nr=[1,1],per=[0,1,2,3],k_v=0,o=1):                14857 runs -    67.34 us/run - 939.52 MFLOP/run -  13.95 TFLOPS
  MUL_MAT(type_a=q4_K,type_b=f32,m=4096,n=8,k=14336,bs=[2,1],nr=[1,1],per=[0,1,2,3],k_v=0,o=1):                 7000 runs -   130.00 us/run - 939.52 MFLOP/run -  13.95 TFLOPS
  MUL_MAT(type_a=q6_K,type_b=f16,m=4096,n=1,k=14336,bs=[1,1],nr=[1,1],per=[0,1,2,3],k_v=0,o=1):                 7000 runs -    99.00 us/run - 117.44 MFLOP/run -   8.17 TFLOPS
  Backend CUDA0: OK
`;

const SQL = `INSERT INTO test_backend_ops (test_time, build_commit, backend_name, op_name, op_params, test_mode, supported, passed, error_message, time_us, flops, bandwidth_gb_s, memory_kb, n_runs, device_description, backend_reg_name) VALUES ('2026-12-03T10:00:00Z', 'd99724f', 'CUDA0', 'MUL_MAT', 'type_a=q5_K,type_b=f32,m=4096,n=2,k=14336,bs=[1,1],nr=[1,1],per=[0,1,2,3],k_v=0,o=1', 'perf', '1', '1', '', '26.120000', '0', '0', '0', '100', 'NVIDIA H200', 'CUDA');
`;

describe('peer timings', () => {
  it('reads the console output: our (type, n, k, m) from ggml names, the device, only plain f32 MUL_MAT', () => {
    const p = parsePeerOutput(CONSOLE, 'h200.txt');
    expect(p.device).toBe('NVIDIA H200');
    expect(p.label).toBe('llama.cpp (h200.txt, NVIDIA H200)');
    expect(peerUs(p, 'Q4_0', 4096, 14336, 1)).toBe(14.37);
    expect(peerUs(p, 'q4_k', 4096, 14336, 8)).toBe(67.34); // not the batched bs=[2,1] line
    expect(peerUs(p, 'Q6_K', 4096, 14336, 1)).toBeNull(); // f16 activations: another operation
    expect(p.us.size).toBe(2);
  });

  it('reads the SQL output, with the build commit and test time a record keeps as the source', () => {
    const p = parsePeerOutput(SQL, 'h200.sql');
    expect(p.device).toBe('NVIDIA H200');
    expect(peerUs(p, 'Q5_K', 4096, 14336, 2)).toBe(26.12);
    expect(p.commit).toBe('d99724f');
    expect(p.measuredAt).toBe('2026-12-03T10:00:00Z');
    // two builds name no single commit; the earliest test time is when the figures were measured
    const two = SQL + SQL.replace("'2026-12-03T10:00:00Z', 'd99724f'", "'2026-12-03T09:00:00Z', 'abc1234'");
    expect(parsePeerOutput(two, 'x.sql')).toMatchObject({ commit: null, measuredAt: '2026-12-03T09:00:00Z' });
    // the console output says neither
    expect(parsePeerOutput(CONSOLE, 'h200.txt')).toMatchObject({ commit: null, measuredAt: null });
  });

  it('reads test-backend-ops SQL as it comes from a build of a source archive: no commit, no device', () => {
    // two rows of a real run on an H200 (ggml of 2026-08, built from a git archive)
    const real = [
      `INSERT INTO test_backend_ops (test_time, build_commit, backend_name, op_name, op_params, test_mode, supported, passed, error_message, time_us, flops, bandwidth_gb_s, memory_kb, n_runs, device_description, backend_reg_name) VALUES ('2026-12-06T01:39:01Z', 'unknown', 'CUDA0', 'MUL_MAT', 'type_a=q4_0,type_b=f32,m=4096,n=1,k=14336,bs=[1,1],nr=[1,1],per=[0,1,2,3],k_v=0,o=1,src_overlap=0', 'perf', '1', '1', '', '14.609923', '8038407369273.798828', '0.000000', '32328', '69012', '', '');`,
      `INSERT INTO test_backend_ops (test_time, build_commit, backend_name, op_name, op_params, test_mode, supported, passed, error_message, time_us, flops, bandwidth_gb_s, memory_kb, n_runs, device_description, backend_reg_name) VALUES ('2026-12-06T01:41:32Z', 'unknown', 'CUDA0', 'MUL_MAT', 'type_a=iq4_xs,type_b=f32,m=4096,n=5,k=14336,bs=[1,1],nr=[1,1],per=[0,1,2,3],k_v=0,o=1,src_overlap=0', 'perf', '1', '1', '', '24.549390', '23919232683689.671875', '0.000000', '30824', '40869', '', '');`,
    ].join('\n');
    const p = parsePeerOutput(real, 'llama-peer.sql');
    expect(peerUs(p, 'Q4_0', 4096, 14336, 1)).toBe(14.609923);
    expect(peerUs(p, 'IQ4_XS', 4096, 14336, 5)).toBeCloseTo(24.549, 3);
    expect(p.commit).toBeNull(); // build_commit 'unknown' is not a commit
    expect(p.device).toBeNull(); // device_description is empty in this output
    expect(p.label).toBe('llama.cpp (llama-peer.sql)');
    expect(p.measuredAt).toBe('2026-12-06T01:39:01Z');
  });

  it('a file without MUL_MAT timings is a one-line error', () => {
    expect(() => parsePeerOutput('hello\n', 'x.txt')).toThrow(/^x\.txt: no MUL_MAT timings found/);
  });

  it('built-in figures apply only to a GPU of their kind, labelled with their source', () => {
    expect(builtinPeer('NVIDIA GeForce RTX 4090')).toBeNull();
    expect(builtinPeer('AMD Instinct MI300X')).toBeNull();
    const h200 = builtinPeer('NVIDIA H200')!;
    expect(h200.label).toMatch(/H200/);
    expect(peerUs(h200, 'Q4_K', 4096, 14336, 1)).toBe(16.36);
    expect(peerUs(h200, 'Q4_K', 4096, 4096, 1)).toBeNull(); // other shapes have no figure
    expect(peerUs(builtinPeer('NVIDIA H100 80GB HBM3')!, 'Q4_K', 4096, 14336, 1)).toBe(18.14);
  });

  it('the H200 figures cover the 12 quantized formats at m = 1..5 and 8; the H100 ones only five', () => {
    const h200 = builtinPeer('NVIDIA H200')!;
    const h100 = builtinPeer('NVIDIA H100 80GB HBM3')!;
    const twelve = FORMATS.filter((f) => f.blockElems > 1).map((f) => f.name);
    expect(twelve).toHaveLength(12);
    for (const f of twelve)
      for (const m of [1, 2, 3, 4, 5, 8])
        expect(peerUs(h200, f, 4096, 14336, m), `${f} m=${m}`).toBeGreaterThan(0);
    expect(peerUs(h200, 'IQ4_XS', 4096, 14336, 5)).toBe(24.55);
    expect(peerUs(h200, 'IQ4_XS', 4096, 14336, 512)).toBeNull(); // not measured: no figure rather than a guess
    expect(peerUs(h100, 'IQ4_XS', 4096, 14336, 1)).toBeNull();
  });
});
