/**
 * The run record: what a run did, on what, with which inputs, and what came out, kept so a result can
 * be proven later and compared with another run (a new driver, ROCm release, GPU or kernel). The
 * format is documented in docs/records.md.
 *
 * Versioned: `schema` names the format and `version` its revision. Reading validates with zod and
 * first migrates older revisions forward, one step at a time, so every record ever written stays
 * readable. Fields a newer QuantScope adds are kept (passthrough) by an older reader.
 */
import { z } from 'zod';
import { RECORD_ID_PATTERN } from '../../../src-shared/contract';

export const RECORD_SCHEMA = 'quantscope.record';
export const RECORD_VERSION = 3;

/**
 * A number, NaN and the infinities included: an output that is NaN has an NMSE of NaN or infinity,
 * and its record must still be written and read. JSON has no such numbers, so records hold them as
 * the strings "NaN", "Infinity" and "-Infinity" (see `recordJson`) and they are read back as numbers.
 */
const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const num = z.preprocess(
  (v) => (typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v),
  z.custom<number>((v) => typeof v === 'number', 'expected a number'),
);
const nullableNum = num.nullable();

/** A record as the text of its file: non-finite numbers as the strings "NaN", "Infinity", "-Infinity". */
export function recordJson(record: unknown): string {
  return JSON.stringify(record, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1);
}

const timing = z
  .object({
    protocol: z.string(),
    medianUs: num,
    minUs: num.optional(),
    maxUs: num.optional(),
    spread: num,
    samples: num.optional(),
    gbps: num.optional(),
    tflops: num.optional(),
    pctPeak: nullableNum.optional(),
    pctCopy: nullableNum.optional(),
  })
  .passthrough();

const diagnosis = z
  .object({ class: z.string(), sentence: z.string(), evidence: z.unknown().optional() })
  .passthrough();

const metrics = z.object({ nmse: num, maxAbsErr: num.optional(), maxRelErr: num.optional() }).passthrough();

const savedHeatmap = z
  .object({
    m: num,
    n: num,
    rows: num,
    cols: num,
    cellRows: num,
    cellCols: num,
    values: z.array(num),
    min: num,
    max: num,
    /** per column, the output features left out of the comparison; absent when none were (and before it was kept) */
    leftOutCols: z.array(num).optional(),
    /** a weight map's: per row, the weight rows left out of the comparison; absent when none were */
    leftOutRows: z.array(num).optional(),
  })
  .passthrough();

/**
 * Where a FAIL's identity probe looked in the weights (WeightMapInfo): the map's geometry and, in
 * records that kept it, `grid`, the probed weights' errors summarised (SavedWeightGrid, build.ts
 * savedWeightGrid). Absent in records written before it was kept, and where the run no longer had the
 * probed weights: optional, so the revision is unchanged.
 */
const weightMap = z
  .object({
    n: num,
    k: num,
    blockElems: num,
    subElems: num,
    spans: z.array(z.tuple([num, num])),
    /** weight rows left out of the comparison (non-finite block scales); absent when none were (and before it was kept) */
    rowsLeftOut: num.optional(),
    /** the probed weights' errors, reduced by maximum to at most 16 x 128 cells, in both metrics */
    grid: z.object({ abs: savedHeatmap, rel: savedHeatmap }).passthrough().optional(),
  })
  .passthrough();

/** One tensor at one batch size. */
export const recordResultSchema = z
  .object({
    tensor: z.string(),
    type: z.string(),
    n: num,
    k: num,
    m: num,
    status: z.enum(['pass', 'fail', 'error', 'not-comparable']),
    path: z.string().nullable(),
    threshold: nullableNum.optional(),
    error: z.string().optional(),
    /**
     * a 'not-comparable' result: why some outputs were left out, with the numbers (blocks with a
     * non-finite scale, the weight rows they sit in, the outputs not compared), as the run said it
     */
    notComparable: z.string().optional(),
    /** blocks of the tensor whose scales are NaN or infinite (absent: none, or not read) */
    nonFiniteBlocks: num.optional(),
    metrics: metrics.nullable(),
    timing: timing.nullable(),
    /** the arithmetic the path declares, and the error it costs (see docs/arithmetic.md) */
    arithmetic: z.string().optional(),
    arithmeticError: nullableNum.optional(),
    diagnosis: diagnosis.nullable().optional(),
    /** a FAIL with identity-probe evidence: where the probe looked (see docs/records.md) */
    weightMap: weightMap.nullable().optional(),
    /** the error heatmap, summarised (see docs/records.md) */
    heatmap: z.object({ abs: savedHeatmap, rel: savedHeatmap }).optional(),
    /** a run over several devices: the result's position in the device list, and the device index */
    slot: z.number().int().min(0).optional(),
    deviceIndex: z.number().int().min(0).optional(),
    /** sha256 of the output buffer (32 hex digits): equal on two devices = bit-identical outputs */
    outputHash: z.string().optional(),
  })
  .passthrough();
export type RecordResult = z.infer<typeof recordResultSchema>;

export const recordKinds = ['verify', 'check', 'bench', 'selftest'] as const;
export type RecordKind = (typeof recordKinds)[number];

/** The copy bandwidth a run measured for its "% of copy" figures, and how. */
const copyBandwidthSchema = z
  .object({
    gbs: num,
    measuredAt: z.string().nullable(),
    bytes: nullableNum,
    repeats: nullableNum,
    method: z.string(),
  })
  .passthrough();

const deviceSchema = z
  .object({
    backend: z.string(),
    index: num,
    name: z.string(),
    arch: z.string(),
    peakBandwidthGBs: nullableNum.optional(),
    copyBandwidthGBs: nullableNum.optional(),
    copyBandwidth: copyBandwidthSchema.nullable().optional(),
    driverVersion: z.string().nullable().optional(),
    runtimeVersion: z.string().nullable().optional(),
    /** cpu, a run from the app: the worker threads left free for its UI (it runs that many fewer than the CLI) */
    threadsKeptForApp: num.optional(),
    /** GPU: the kernel settings that differed from the defaults ("QS_LDW=16", "QS_MMA_I8_TILE=64x128") */
    kernelSettings: z.array(z.string()).optional(),
  })
  .passthrough();

const verdict = z.enum(['pass', 'fail', 'error']);

/** One format, shape, batch size, protocol and path of a bench record. */
export const benchRowSchema = z
  .object({
    format: z.string(),
    n: num,
    k: num,
    m: num,
    protocol: z.string(),
    path: z.string(),
    medianUs: num,
    iqrUs: nullableNum,
    spread: num,
    samples: num,
    minUs: nullableNum.optional(),
    maxUs: nullableNum.optional(),
    gbps: num,
    tflops: num,
    pctPeak: nullableNum,
    pctCopy: nullableNum,
    peerUs: nullableNum,
    hostUs: nullableNum.optional(),
    check: z.object({ status: verdict, nmse: nullableNum, detail: z.string().optional() }).passthrough(),
  })
  .passthrough();
export type BenchRow = z.infer<typeof benchRowSchema>;

const benchSchema = z
  .object({
    shape: z.object({ n: num, k: num }).nullable().optional(),
    repeats: nullableNum.optional(),
    protocols: z.array(z.string()).optional(),
    paths: z.array(z.string()).optional(),
    peer: z
      .object({
        label: z.string(),
        source: z.string(),
        device: z.string().nullable(),
        commit: z.string().nullable().optional(),
        measuredAt: z.string().nullable().optional(),
      })
      .passthrough()
      .nullable()
      .optional(),
    rows: z.array(benchRowSchema),
  })
  .passthrough();

/** One case of a selftest record. */
export const selftestRowSchema = z
  .object({
    format: z.string(),
    n: num,
    k: num,
    m: num,
    weights: z.string(),
    requested: z.string(),
    path: z.string().nullable(),
    status: verdict,
    nmse: nullableNum,
    threshold: nullableNum,
    arithmetic: z.string().nullable().optional(),
    arithmeticError: nullableNum.optional(),
    diagnosis: diagnosis.nullable().optional(),
    detail: z.string(),
    ms: num,
  })
  .passthrough();
export type SelftestRecordRow = z.infer<typeof selftestRowSchema>;

const selftestSchema = z
  .object({
    backend: z.string().optional(),
    quick: z.boolean().optional(),
    seed: num.optional(),
    rows: z.array(selftestRowSchema),
  })
  .passthrough();

/** One device of a several-device run (src-shared/devices.ts DeviceRunEntry). */
const deviceRunSchema = z
  .object({
    slot: z.number().int().min(0),
    backend: z.string(),
    index: z.number().int().min(0),
    name: z.string().nullable(),
    arch: z.string().nullable(),
    pciBusId: z.string().nullable().optional(),
    uuid: z.string().nullable().optional(),
    status: z.enum(['done', 'cancelled', 'failed']),
    error: z.string().optional(),
    thread: num.nullable().optional(),
  })
  .passthrough();

export const runRecordSchema = z
  .object({
    schema: z.literal(RECORD_SCHEMA),
    version: z.literal(RECORD_VERSION),
    id: z.string().regex(RECORD_ID_PATTERN),
    kind: z.enum(recordKinds),
    createdAt: z.string(),
    /** when the run started (verify records; absent in older ones): createdAt is when it ended */
    startedAt: z.string().optional(),
    app: z.object({ version: z.string(), commit: z.string() }).passthrough(),
    host: z.object({ os: z.string(), hostname: z.string(), node: z.string() }).passthrough(),
    device: deviceSchema.nullable(),
    model: z
      .object({
        fileName: z.string(),
        path: z.string().optional(),
        fileSize: num,
        /** sha256 over the bytes of the tensors that ran (names and data), so two runs can be told to be on the same weights */
        tensorsHash: z.string().nullable(),
        /** the model's general.architecture and general.name (verify records; absent in older ones) */
        architecture: z.string().nullable().optional(),
        name: z.string().nullable().optional(),
        /** a split model: its number of files (fileName is the first) */
        files: num.optional(),
      })
      .passthrough()
      .nullable(),
    request: z
      .object({
        tensors: z.array(z.string()).optional(),
        batchSizes: z.array(num).optional(),
        path: z.string().optional(),
        arithmetic: z.string().optional(),
        activations: z.string().optional(),
        seed: num.optional(),
        timing: z.string().optional(),
        threshold: nullableNum.optional(),
      })
      .passthrough(),
    status: z.string(),
    error: z.string().optional(),
    results: z.array(recordResultSchema),
    /**
     * A run with more results than a record keeps (RECORD_RESULTS, ./build.ts): the results left
     * out, by verdict. Absent when every result is in `results`.
     */
    omittedResults: z.object({ pass: num, fail: num, error: num, notComparable: num }).optional(),
    bench: benchSchema.optional(),
    selftest: selftestSchema.optional(),
    /**
     * A run over several devices (`--device all`, `0,2,5`): every device's part, in list order;
     * `device` then names the first device that opened. Absent on a one-device run.
     */
    devices: z.array(deviceRunSchema).optional(),
  })
  .passthrough()
  .superRefine((r, ctx) => {
    // each kind carries what it means: a bench its timings, a selftest its cases
    if (r.kind === 'bench' && !r.bench)
      ctx.addIssue({ code: 'custom', path: ['bench'], message: 'a bench record needs its bench section' });
    if (r.kind === 'selftest' && !r.selftest)
      ctx.addIssue({
        code: 'custom',
        path: ['selftest'],
        message: 'a selftest record needs its selftest section',
      });
  });
export type RunRecord = z.infer<typeof runRecordSchema>;

/** How a copy bandwidth kept by a revision-2 record was taken: it did not say. */
export const UNRECORDED_COPY_METHOD = 'not recorded (measured once per process, before revision 3)';

/**
 * Revision 1 had `model.sha256` (of the whole file) instead of `tensorsHash`, and results whose
 * `timing.spread` was missing when a single sample was taken. Revision 2 kept the copy bandwidth as a
 * bare number, the arithmetic error of a result under the run's name `arithmeticNmse`, and had no
 * bench or selftest sections (only verify runs were saved). Each step takes the raw object of
 * revision v and returns revision v + 1.
 */
const MIGRATIONS: Record<number, (r: Record<string, unknown>) => Record<string, unknown>> = {
  1: (r) => {
    const model = r.model as Record<string, unknown> | null | undefined;
    const results = (r.results as Record<string, unknown>[] | undefined) ?? [];
    return {
      ...r,
      version: 2,
      model: model ? { ...model, tensorsHash: (model.sha256 as string | undefined) ?? null } : null,
      results: results.map((x) => {
        const t = x.timing as Record<string, unknown> | null | undefined;
        return t && t.spread === undefined ? { ...x, timing: { ...t, spread: 0 } } : x;
      }),
    };
  },
  2: (r) => {
    const device = r.device as Record<string, unknown> | null | undefined;
    const gbs = device?.copyBandwidthGBs;
    const results = (r.results as Record<string, unknown>[] | undefined) ?? [];
    const out: Record<string, unknown> = {
      ...r,
      version: 3,
      device:
        device && device.copyBandwidth === undefined
          ? {
              ...device,
              copyBandwidth:
                typeof gbs === 'number' && gbs > 0
                  ? { gbs, measuredAt: null, bytes: null, repeats: null, method: UNRECORDED_COPY_METHOD }
                  : null,
            }
          : device,
      results: results.map((x) =>
        x.arithmeticError === undefined && typeof x.arithmeticNmse === 'number'
          ? { ...x, arithmeticError: x.arithmeticNmse }
          : x,
      ),
    };
    if (r.kind === 'bench' && r.bench === undefined) out.bench = { rows: [] };
    if (r.kind === 'selftest' && r.selftest === undefined) out.selftest = { rows: [] };
    return out;
  },
};

/** Validates (after migrating) a parsed record; throws an Error naming the first problem. */
export function parseRecord(raw: unknown): RunRecord {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not a JSON object');
  let r = raw as Record<string, unknown>;
  if (r.schema !== RECORD_SCHEMA)
    throw new Error(`not a QuantScope record (schema ${JSON.stringify(r.schema)})`);
  let v = r.version;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new Error(`record version ${JSON.stringify(v)} is not valid`);
  if (v > RECORD_VERSION)
    throw new Error(
      `record version ${v} is newer than this QuantScope reads (${RECORD_VERSION}): update QuantScope`,
    );
  while (v < RECORD_VERSION) {
    r = MIGRATIONS[v](r);
    v++;
  }
  const p = runRecordSchema.safeParse(r);
  if (!p.success) {
    const i = p.error.issues[0];
    throw new Error(`${i.path.join('.') || 'record'}: ${i.message}`);
  }
  return p.data;
}

/** The verdicts of a record's rows: results, or a bench's correctness checks, or a selftest's cases. */
export function recordStatuses(r: Pick<RunRecord, 'results' | 'bench' | 'selftest'>): string[] {
  if (r.bench) return r.bench.rows.map((x) => x.check.status);
  if (r.selftest) return r.selftest.rows.map((x) => x.status);
  return r.results.map((x) => x.status);
}

/** Verdict counts of a record: of its rows and of the results it left out. */
export function recordCounts(r: Pick<RunRecord, 'results' | 'bench' | 'selftest' | 'omittedResults'>) {
  const statuses = recordStatuses(r);
  const c = { total: statuses.length, pass: 0, fail: 0, error: 0, notComparable: 0 };
  for (const s of statuses) {
    if (s === 'pass') c.pass++;
    else if (s === 'fail') c.fail++;
    else if (s === 'error') c.error++;
    else c.notComparable++;
  }
  const o = r.omittedResults;
  if (o) {
    c.pass += o.pass;
    c.fail += o.fail;
    c.error += o.error;
    c.notComparable += o.notComparable;
    c.total += o.pass + o.fail + o.error + o.notComparable;
  }
  return c;
}
