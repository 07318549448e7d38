import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers';

// test-backend-ops --output sql rows: as a build without git history writes them (commit 'unknown', no
// device description), and as one that names its device
const row = (commit: string, device: string) =>
  `INSERT INTO test_backend_ops (test_time, build_commit, backend_name, op_name, op_params, test_mode, supported, passed, error_message, time_us, flops, bandwidth_gb_s, memory_kb, n_runs, device_description, backend_reg_name) VALUES ('2026-12-06T01:39:01Z', '${commit}', 'CUDA0', 'MUL_MAT', 'type_a=q8_0,type_b=f32,m=64,n=1,k=256,bs=[1,1],nr=[1,1],per=[0,1,2,3],k_v=0,o=1,src_overlap=0', 'perf', '1', '1', '', '3.500000', '0', '0', '0', '100', '${device}', '');\n`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-peer-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const bench = (peer: string, json: string) =>
  cli(
    ...'bench --backend cpu --formats q8_0 --m 1 --n 64 --k 256 --repeats 3 --no-record'.split(' '),
    '--peer',
    peer,
    '--json',
    json,
  );

describe('bench --peer', () => {
  it('a file that names no device says so, and its times are the peer column', async () => {
    const peer = path.join(dir, 'anon.sql');
    fs.writeFileSync(peer, row('unknown', ''));
    const json = path.join(dir, 'anon.json');
    const r = await bench(peer, json);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`bench: note: ${peer} does not name the device its times were measured on`);
    expect(r.out).toContain(`peer: llama.cpp (${peer})`);
    const out = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(out.peer).toBe(`llama.cpp (${peer})`);
    expect(out.rows[0].llamaUs).toBe(3.5);
  });

  it('a file from another device is shown with a note naming both', async () => {
    const peer = path.join(dir, 'h200.sql');
    fs.writeFileSync(peer, row('d99724f', 'NVIDIA H200'));
    const r = await bench(peer, path.join(dir, 'h200.json'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/bench: note: the --peer times were measured on NVIDIA H200, this is /);
    expect(r.err).not.toContain('does not name the device');
  });
});
