/**
 * Peer timings for `bench`: llama.cpp's MUL_MAT times for the same shape, shown only when they were
 * measured on the same kind of GPU. Two sources: a file the user made on their GPU with llama.cpp's
 * `test-backend-ops perf -o MUL_MAT` (its console output, or `--output sql`), or the built-in tables,
 * which hold llama.cpp's published-here figures for the H100 and the H200 and apply only to a device
 * of that name. A peer column without its device and date would compare different machines.
 *
 * test-backend-ops names the MUL_MAT shape from ggml's side: its `m` is the weight's row count (our
 * n), its `n` the batch (our m), `k` the row length.
 */

export interface PeerTimes {
  /** what the column header and the report say: who measured, on what, when */
  label: string;
  /** the device the times belong to, as its driver names it (null: unknown, from a file without one) */
  device: string | null;
  /** microseconds per multiplication, by `TYPE:n:k:m` (TYPE upper case, e.g. Q4_K:4096:14336:1) */
  us: Map<string, number>;
  /** the peer's build (llama.cpp's commit), where the source names exactly one (its SQL output does) */
  commit?: string | null;
  /** when the peer's figures were measured (its earliest test time), where the source says */
  measuredAt?: string | null;
}

const key = (type: string, n: number, k: number, m: number) => `${type.toUpperCase()}:${n}:${k}:${m}`;

export function peerUs(p: PeerTimes, type: string, n: number, k: number, m: number): number | null {
  return p.us.get(key(type, n, k, m)) ?? null;
}

/** Parses `type_a=q4_0,type_b=f32,m=4096,n=1,k=14336,...` into our (type, n, k, m); null if not a plain f32 MUL_MAT. */
function shapeOf(params: string): { type: string; n: number; k: number; m: number } | null {
  const get = (name: string) => new RegExp(`(?:^|,)${name}=([^,\\]]+)`).exec(params)?.[1];
  const typeA = get('type_a');
  const typeB = get('type_b');
  const rows = Number(get('m'));
  const batch = Number(get('n'));
  const k = Number(get('k'));
  if (!typeA || typeB !== 'f32' || ![rows, batch, k].every((v) => Number.isSafeInteger(v) && v > 0))
    return null;
  // batched, broadcast or permuted variants are other operations
  const list = (name: string) => new RegExp(`(?:^|,)${name}=\\[([^\\]]*)\\]`).exec(params)?.[1];
  for (const [name, plain] of [
    ['bs', '1,1'],
    ['nr', '1,1'],
    ['per', '0,1,2,3'],
  ] as const) {
    const v = list(name);
    if (v !== undefined && v !== plain) return null;
  }
  return { type: typeA, n: rows, k, m: batch };
}

/**
 * Reads llama.cpp `test-backend-ops perf -o MUL_MAT` output: the console form
 * (`  MUL_MAT(type_a=q4_K,...):   1234 runs -    16.36 us/run - ...`, with `Device description:` lines)
 * or the SQL form (`--output sql`: INSERT statements with op_params, time_us, device_description, and
 * the build_commit and test_time a record keeps as the figures' source).
 * Throws a one-line error when the text holds no MUL_MAT timing.
 */
export function parsePeerOutput(text: string, source: string): PeerTimes {
  const us = new Map<string, number>();
  const devices = new Set<string>();
  const commits = new Set<string>();
  const times: string[] = [];
  let current: string | null = null;
  for (const line of text.split('\n')) {
    const dev = /^\s*Device description:\s*(.+?)\s*$/.exec(line);
    if (dev) {
      current = dev[1];
      continue;
    }
    const con = /^\s*MUL_MAT\((.*)\):\s+\d+\s+runs\s+-\s+([\d.]+)\s+us\/run/.exec(line);
    if (con) {
      const s = shapeOf(con[1]);
      if (s) {
        us.set(key(s.type, s.n, s.k, s.m), Number(con[2]));
        if (current) devices.add(current);
      }
      continue;
    }
    if (/^\s*INSERT INTO/i.test(line)) {
      const cols = /\(([^)]*)\)\s*VALUES/i
        .exec(line)?.[1]
        .split(',')
        .map((c) => c.trim().replace(/"/g, ''));
      const vals = /VALUES\s*\((.*)\);?\s*$/i.exec(line)?.[1];
      if (!cols || vals === undefined) continue;
      const values = [...vals.matchAll(/'((?:[^']|'')*)'|([^,\s][^,]*)/g)].map((v) =>
        v[1] !== undefined ? v[1].replace(/''/g, "'") : v[2].trim(),
      );
      const row = Object.fromEntries(cols.map((c, i) => [c, values[i] ?? '']));
      if (row.op_name !== 'MUL_MAT' || row.test_mode !== 'perf') continue;
      const s = shapeOf(row.op_params ?? '');
      const t = Number(row.time_us);
      if (s && t > 0) {
        us.set(key(s.type, s.n, s.k, s.m), t);
        if (row.device_description) devices.add(row.device_description);
        // a build from a source archive (no git history) says 'unknown': no commit rather than a false one
        if (row.build_commit && row.build_commit !== 'unknown') commits.add(row.build_commit);
        if (row.test_time) times.push(row.test_time);
      }
    }
  }
  if (us.size === 0)
    throw new Error(
      `${source}: no MUL_MAT timings found (expected the output of llama.cpp's test-backend-ops perf -o MUL_MAT)`,
    );
  const device = devices.size === 1 ? [...devices][0] : null;
  return {
    label: `llama.cpp (${source}${device ? `, ${device}` : ''})`,
    device,
    us,
    commit: commits.size === 1 ? [...commits][0] : null,
    // ISO 8601 times of one run sort as text
    measuredAt: times.length ? times.sort()[0] : null,
  };
}

/** llama.cpp's CUDA backend, test-backend-ops perf, weight 4096 x 14336, float32 activations. */
const BUILTIN: { device: RegExp; label: string; table: Record<string, Record<number, number>> }[] = [
  {
    device: /\bH100\b/,
    label: 'llama.cpp (ggml 2026-08, H100 80GB HBM3)',
    table: {
      Q4_0: { 1: 14.69, 2: 16.5, 3: 19.13, 4: 22.22, 5: 26.26, 8: 34.36, 512: 323.9 },
      Q4_K: { 1: 18.14, 2: 22.82, 3: 29.36, 4: 36.75, 5: 45.59, 8: 68.66, 512: 364.2 },
      Q5_K: { 1: 20.62, 2: 28.3, 3: 33.02, 4: 40.76, 5: 49.06, 8: 71.73, 512: 369.2 },
      Q6_K: { 1: 29.86, 2: 31.94, 3: 35.55, 4: 41.23, 5: 47.63, 8: 62.84, 512: 434.0 },
      Q8_0: { 1: 27.26, 2: 29.88, 3: 30.42, 4: 31.72, 5: 41.36, 8: 46.8, 512: 320.7 },
      F16: { 1: 40.52, 2: 46.47, 3: 46.76, 4: 47.13, 5: 47.05, 8: 47.64, 512: 140.4 },
    },
  },
  {
    device: /\bH200\b/,
    label: 'llama.cpp (ggml 2026-08, H200)',
    table: {
      Q4_0: { 1: 14.37, 2: 15.0, 3: 17.69, 4: 20.54, 5: 24.41, 8: 33.28, 512: 328.6 },
      Q4_K: { 1: 16.36, 2: 21.98, 3: 28.79, 4: 35.8, 5: 44.43, 8: 67.34, 512: 358.9 },
      Q5_K: { 1: 19.31, 2: 26.12, 3: 32.0, 4: 39.23, 5: 47.26, 8: 69.97, 512: 371.1 },
      Q6_K: { 1: 28.79, 2: 30.76, 3: 35.34, 4: 40.49, 5: 47.15, 8: 62.33, 512: 436.8 },
      Q8_0: { 1: 22.99, 2: 25.21, 3: 27.07, 4: 29.19, 5: 39.92, 8: 46.25, 512: 324.4 },
      // the other seven formats: one later call on an H200 (2026-12-06, same ggml)
      Q2_K: { 1: 16.89, 2: 21.55, 3: 27.77, 4: 32.92, 5: 39.52, 8: 59.66 },
      Q3_K: { 1: 28.21, 2: 30.33, 3: 34.44, 4: 41.07, 5: 44.21, 8: 65.61 },
      Q4_1: { 1: 11.81, 2: 12.5, 3: 15.39, 4: 18.34, 5: 23.93, 8: 31.71, 512: 354.26 },
      Q5_0: { 1: 18.1, 2: 18.86, 3: 21.76, 4: 24.9, 5: 29.18, 8: 38.6, 512: 362 },
      Q5_1: { 1: 16.93, 2: 18.05, 3: 21.31, 4: 24.39, 5: 29.82, 8: 37.24 },
      IQ4_NL: { 1: 15.94, 2: 16.59, 3: 19.57, 4: 21.94, 5: 25.64, 8: 34.3 },
      IQ4_XS: { 1: 14.41, 2: 14.93, 3: 18.37, 4: 21.51, 5: 24.55, 8: 35.52 },
    },
  },
];

/** The built-in peer times for this device, or null when none were measured on this kind of GPU. */
export function builtinPeer(deviceName: string): PeerTimes | null {
  const b = BUILTIN.find((x) => x.device.test(deviceName));
  if (!b) return null;
  const us = new Map<string, number>();
  for (const [type, byM] of Object.entries(b.table))
    for (const [m, t] of Object.entries(byM)) us.set(key(type, 4096, 14336, Number(m)), t);
  return { label: b.label, device: deviceName, us };
}
