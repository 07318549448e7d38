/**
 * The argument schema of every method in the table (./methods.ts). The engine validates each call
 * with parseApiArgs before acting on it, whichever face it came through; a shell hook that reads an
 * argument itself (the path of openModel) parses with the same function first. Each method takes a
 * tuple of arguments, exactly as `ipcRenderer.invoke(channel, ...args)` passes them and as the HTTP
 * client posts them (a JSON array body).
 */
import { z } from 'zod';
import { ApiArgumentError } from './errors';
import { LIMITS } from './limits';
import type { ApiArgs, ApiMethod } from './methods';
import { ACTIVATION_KINDS, ARITHMETIC_SCHEMES, PATH_CHOICES, RECORD_ID_PATTERN } from './types';

const shortId = z.string().min(1).max(LIMITS.idChars);
export const filePathSchema = z
  .string()
  .min(1, 'path is empty')
  .max(LIMITS.pathChars, 'path is too long')
  .refine((s) => !s.includes('\0'), 'path contains a NUL byte');
const nonNegInt = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const backendKindSchema = z.enum(['cpu', 'cuda', 'hip']);

const formatNameSchema = z.string().regex(/^[A-Za-z0-9_]{1,16}$/, 'a format is a type name such as Q4_K');
/** a launch geometry: up to three expressions of m, n, k ("n/8,m"); the planner parses them */
const geometrySchema = z
  .string()
  .max(200)
  .regex(/^[-+*/() 0-9mnk,]*$/, 'a geometry is up to three expressions of m, n and k, e.g. n/8,m');

export const userKernelSchema = z
  .object({
    format: formatNameSchema,
    path: filePathSchema,
    grid: geometrySchema.optional(),
    block: geometrySchema.optional(),
    shared: z
      .string()
      .regex(/^\d{0,9}$/, 'shared memory is a byte count')
      .optional(),
    arithmetic: z.enum(ARITHMETIC_SCHEMES).nullable().optional(),
  })
  .strict();

export const runRequestSchema = z
  .object({
    modelId: shortId,
    tensors: z.array(z.string().min(1).max(LIMITS.tensorNameChars)).min(1).max(LIMITS.tensorsPerRun),
    batchSizes: z.array(z.number().int().min(1).max(LIMITS.maxBatch)).min(1).max(LIMITS.batchSizesPerRun),
    backend: backendKindSchema,
    deviceIndex: z.number().int().min(0).max(1024),
    seed: nonNegInt,
    timing: z.enum(['none', 'hot', 'cold']),
    path: z.enum(PATH_CHOICES),
    compareUnfused: z.boolean(),
    threshold: z.number().positive().finite().nullable(),
    arithmetic: z.enum(ARITHMETIC_SCHEMES).nullable().optional(),
    // a generated kind, or a float32/.npy file (the engine opens a file only where it may open models)
    activations: z.union([z.enum(ACTIVATION_KINDS), z.string().min(1).max(4096)]).optional(),
    repeats: z.number().int().min(1).max(LIMITS.maxRepeats).optional(),
    devices: z.array(z.number().int().min(0).max(1024)).min(1).max(64).optional(),
    userKernels: z.array(userKernelSchema).max(LIMITS.userKernels).optional(),
  })
  .strict()
  .refine((r) => new Set((r.userKernels ?? []).map((u) => u.format)).size === (r.userKernels ?? []).length, {
    message: 'userKernels: one code object per format',
  });

export const selftestRequestSchema = z
  .object({
    backend: backendKindSchema,
    deviceIndex: z.number().int().min(0).max(1024),
    quick: z.boolean(),
    formats: z.array(formatNameSchema).min(1).max(LIMITS.userKernels).optional(),
    seed: z.number().int().min(0).max(0xffffffff).optional(),
  })
  .strict();

export const checkRequestSchema = z
  .object({
    modelId: shortId,
    tensor: z.string().min(1).max(LIMITS.tensorNameChars),
    input: filePathSchema,
    output: filePathSchema,
    m: z
      .number()
      .int()
      .min(1)
      .max(1 << 24)
      .optional(),
    arithmetic: z.enum(ARITHMETIC_SCHEMES).nullable().optional(),
    threshold: z.number().positive().finite().nullable().optional(),
  })
  .strict();

export const pickFileKindSchema = z.enum(['code-object', 'float32']);

export const errorGridRequestSchema = z
  .object({
    resultId: shortId,
    rowStart: nonNegInt.optional(),
    rowEnd: nonNegInt.optional(),
    colStart: nonNegInt.optional(),
    colEnd: nonNegInt.optional(),
    maxRows: z.number().int().min(1).max(LIMITS.gridCells),
    maxCols: z.number().int().min(1).max(LIMITS.gridCells),
    metric: z.enum(['abs', 'rel']),
  })
  .strict()
  .refine((r) => r.rowStart === undefined || r.rowEnd === undefined || r.rowStart < r.rowEnd, {
    message: 'rowStart must be less than rowEnd',
  })
  .refine((r) => r.colStart === undefined || r.colEnd === undefined || r.colStart < r.colEnd, {
    message: 'colStart must be less than colEnd',
  });

export const reportRequestSchema = z
  .object({ runId: shortId, format: z.enum(['html', 'json', 'md']) })
  .strict();

/** A record is named by its id, never by a path. */
export const recordIdSchema = z
  .string()
  .regex(RECORD_ID_PATTERN, 'a record id is 1-128 letters, digits, ".", "_" or "-"');

export const recordReportRequestSchema = z
  .object({ id: recordIdSchema, format: z.enum(['html', 'json', 'md']) })
  .strict();

export const compareRequestSchema = z
  .object({
    baseline: recordIdSchema,
    candidate: recordIdSchema,
    speedTolerance: z.number().min(0).lt(10).optional(),
  })
  .strict();

export const comparisonExportRequestSchema = z
  .object({
    baseline: recordIdSchema,
    candidate: recordIdSchema,
    speedTolerance: z.number().min(0).lt(10).optional(),
    format: z.enum(['html', 'json']),
  })
  .strict();

/** One tuple schema per method; the type pins each to the table's argument tuple. */
export const apiArgSchemas = {
  appInfo: z.tuple([]),
  listModelFiles: z.tuple([]),
  pickModelFile: z.tuple([]),
  openModel: z.tuple([filePathSchema]),
  // empty: the roots themselves
  completePath: z.tuple([
    z
      .string()
      .max(LIMITS.pathChars, 'path is too long')
      .refine((s) => !s.includes('\0'), 'path contains a NUL byte'),
  ]),
  listTensors: z.tuple([
    z
      .object({
        modelId: shortId,
        offset: nonNegInt,
        limit: z.number().int().min(1).max(LIMITS.tensorPage),
      })
      .strict(),
  ]),
  devices: z.tuple([]),
  startRun: z.tuple([runRequestSchema]),
  cancelRun: z.tuple([shortId]),
  errorGrid: z.tuple([errorGridRequestSchema]),
  exportReport: z.tuple([reportRequestSchema]),
  listRecords: z.tuple([]),
  openRecord: z.tuple([recordIdSchema]),
  exportRecordReport: z.tuple([recordReportRequestSchema]),
  compareRecords: z.tuple([compareRequestSchema]),
  exportComparison: z.tuple([comparisonExportRequestSchema]),
  pickFile: z.tuple([pickFileKindSchema]),
  codeObjectInfo: z.tuple([filePathSchema]),
  startSelftest: z.tuple([selftestRequestSchema]),
  checkPair: z.tuple([checkRequestSchema]),
  weightGrid: z.tuple([errorGridRequestSchema]),
} as const satisfies { [M in ApiMethod]: z.ZodTuple & z.ZodType<ApiArgs<M>> };

/** renderer -> main: the path of a dropped file (Electron only) */
export const droppedPathSchema = z.tuple([
  filePathSchema.refine((s) => /\.gguf$/i.test(s), 'only .gguf files can be dropped'),
]);

/**
 * Validates the arguments of one call. Returns the parsed tuple, or throws an ApiArgumentError whose
 * message is one line naming the method and the first thing wrong ("startRun: batchSizes.0: ...").
 */
export function parseApiArgs<M extends ApiMethod>(method: M, args: unknown): ApiArgs<M> {
  const schema = apiArgSchemas[method];
  const given = args ?? [];
  if (!Array.isArray(given)) throw new ApiArgumentError(`${method}: arguments must be a JSON array`);
  const expected = schema.def.items.length;
  if (given.length !== expected)
    throw new ApiArgumentError(
      `${method}: expected ${expected} argument${expected === 1 ? '' : 's'}, got ${given.length}`,
    );
  const res = schema.safeParse(given);
  if (res.success) return res.data as ApiArgs<M>;
  throw new ApiArgumentError(`${method}: ${describeZodError(res.error, expected === 1)}`);
}

/** One line from a zod error: the first issue, with its path. */
export function describeZodError(err: z.ZodError, dropFirstIndex = false): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid arguments';
  const path = issue.path.map(String);
  // One-argument methods: the leading tuple index says nothing ("0.modelId" -> "modelId").
  if (dropFirstIndex && path.length > 0) path.shift();
  const where = path.length > 0 ? `${path.join('.')}: ` : '';
  return `invalid ${where ? where : 'argument: '}${issue.message}`.replace(/\s+/g, ' ').trim();
}
