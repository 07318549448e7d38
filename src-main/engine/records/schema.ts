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
export const RECORD_VERSION = 2;

const num = z.number();
const nullableNum = num.nullable();

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

const metrics = z.object({ nmse: num, maxAbsErr: num.optional(), maxRelErr: num.optional() }).passthrough();

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
    metrics: metrics.nullable(),
    timing: timing.nullable(),
    /** the arithmetic the path declares, and the error it costs (see docs/arithmetic.md) */
    arithmetic: z.string().optional(),
    arithmeticError: nullableNum.optional(),
    diagnosis: z
      .object({ class: z.string(), sentence: z.string(), evidence: z.unknown().optional() })
      .passthrough()
      .nullable()
      .optional(),
    /** a run over several devices: the result's position in the device list, and the device index */
    slot: num.int().min(0).optional(),
    deviceIndex: num.int().min(0).optional(),
    /** sha256 of the output buffer (32 hex digits): equal on two devices = bit-identical outputs */
    outputHash: z.string().optional(),
  })
  .passthrough();
export type RecordResult = z.infer<typeof recordResultSchema>;

export const recordKinds = ['verify', 'check', 'bench', 'selftest'] as const;
export type RecordKind = (typeof recordKinds)[number];

const deviceSchema = z
  .object({
    backend: z.string(),
    index: num,
    name: z.string(),
    arch: z.string(),
    peakBandwidthGBs: nullableNum.optional(),
    copyBandwidthGBs: nullableNum.optional(),
    driverVersion: z.string().nullable().optional(),
    runtimeVersion: z.string().nullable().optional(),
  })
  .passthrough();

/** One device of a several-device run (src-shared/devices.ts DeviceRunEntry). */
const deviceRunSchema = z
  .object({
    slot: num.int().min(0),
    backend: z.string(),
    index: num.int().min(0),
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
     * A run over several devices (`--device all`, `0,2,5`): every device's part, in list order;
     * `device` then names the first device that opened. Absent on a one-device run.
     */
    devices: z.array(deviceRunSchema).optional(),
  })
  .passthrough();
export type RunRecord = z.infer<typeof runRecordSchema>;

/**
 * Revision 1 had `model.sha256` (of the whole file) instead of `tensorsHash`, and results whose
 * `timing.spread` was missing when a single sample was taken. Each step takes the raw object of
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

/** Verdict counts of a record. */
export function recordCounts(r: Pick<RunRecord, 'results'>) {
  const c = { total: r.results.length, pass: 0, fail: 0, error: 0, notComparable: 0 };
  for (const x of r.results) {
    if (x.status === 'pass') c.pass++;
    else if (x.status === 'fail') c.fail++;
    else if (x.status === 'error') c.error++;
    else c.notComparable++;
  }
  return c;
}
