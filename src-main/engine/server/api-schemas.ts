/**
 * zod schemas for every QuantScopeApi call that crosses a process or network boundary. Both the
 * Electron IPC handlers (src-main/app) and the browser-mode HTTP server validate the arguments
 * with these before anything reaches the engine. Each method takes a tuple of arguments, exactly
 * as `ipcRenderer.invoke(channel, ...args)` passes them and as the HTTP client posts them (a JSON
 * array body).
 */
import { z } from 'zod';
import type { QuantScopeApi } from '../../../src-preload/api';
import { PATH_CHOICES } from '../../../src-preload/api';

/** Upper bounds: generous for real use, small enough that a hostile payload cannot exhaust memory. */
export const LIMITS = {
  pathChars: 4096,
  idChars: 200,
  tensorNameChars: 256,
  tensorsPerRun: 20_000,
  batchSizesPerRun: 64,
  maxBatch: 1 << 16,
  gridCells: 4096,
  maxRepeats: 1000,
  bodyBytes: 4 << 20,
} as const;

const shortId = z.string().min(1).max(LIMITS.idChars);
const filePath = z
  .string()
  .min(1, 'path is empty')
  .max(LIMITS.pathChars, 'path is too long')
  .refine((s) => !s.includes('\0'), 'path contains a NUL byte');
const nonNegInt = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const backendKindSchema = z.enum(['cpu', 'cuda', 'hip']);

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
    repeats: z.number().int().min(1).max(LIMITS.maxRepeats).optional(),
  })
  .strict();

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

/** The request-response methods of QuantScopeApi (onRunEvent is a subscription, not a call). */
export type ApiMethod = Exclude<keyof QuantScopeApi, 'onRunEvent'>;

export const apiArgSchemas = {
  appInfo: z.tuple([]),
  listModelFiles: z.tuple([]),
  pickModelFile: z.tuple([]),
  openModel: z.tuple([filePath]),
  devices: z.tuple([]),
  startRun: z.tuple([runRequestSchema]),
  cancelRun: z.tuple([shortId]),
  errorGrid: z.tuple([errorGridRequestSchema]),
  exportReport: z.tuple([reportRequestSchema]),
} as const satisfies Record<ApiMethod, z.ZodType>;

export const API_METHODS = Object.keys(apiArgSchemas) as ApiMethod[];

export function isApiMethod(name: string): name is ApiMethod {
  return Object.prototype.hasOwnProperty.call(apiArgSchemas, name);
}

export type ApiArgs<M extends ApiMethod> = z.infer<(typeof apiArgSchemas)[M]>;

/**
 * Validates the arguments of one call. Returns the parsed tuple, or throws an Error whose message
 * is one line naming the method and the first thing wrong ("startRun: batchSizes.0: ...").
 */
export function parseApiArgs<M extends ApiMethod>(method: M, args: unknown): ApiArgs<M> {
  const schema = apiArgSchemas[method];
  const given = args ?? [];
  if (!Array.isArray(given)) throw new Error(`${method}: arguments must be a JSON array`);
  const expected = schema.def.items.length;
  if (given.length !== expected)
    throw new Error(
      `${method}: expected ${expected} argument${expected === 1 ? '' : 's'}, got ${given.length}`,
    );
  const res = schema.safeParse(given);
  if (res.success) return res.data as ApiArgs<M>;
  throw new Error(`${method}: ${describeZodError(res.error, expected === 1)}`);
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
