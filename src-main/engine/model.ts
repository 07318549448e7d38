/** What the UI, the CLI and reports show about an opened model (header facts only). */
import path from 'node:path';
import type { ModelSummary, TensorSummary, MetadataEntry } from '../../src-shared/contract';
import { formatMetadataValue, type GgufFile, type GgufHeader, type GgufTensorInfo } from './gguf';

const VALUE_TYPE_NAMES = [
  'u8',
  'i8',
  'u16',
  'i16',
  'u32',
  'i32',
  'f32',
  'bool',
  'string',
  'array',
  'u64',
  'i64',
  'f64',
];

export function layerOf(name: string): number | null {
  const m = /(?:^|\.)blk\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : null;
}

/** `split`: the tensor's model has several files, so the summary names the tensor's (`shard`). */
export function tensorSummary(t: GgufTensorInfo, split = false): TensorSummary {
  return {
    index: t.index,
    name: t.name,
    type: t.type,
    typeName: t.typeName,
    dims: t.dims,
    n: t.n,
    k: t.k,
    nbytes: t.nbytes,
    offset: t.offset,
    ...(split ? { shard: t.shard } : {}),
    supported: t.supported,
    unsupportedReason: t.unsupportedReason,
    layer: layerOf(t.name),
  };
}

export function metaString(h: GgufHeader, key: string): string | null {
  const e = h.metadata.find((x) => x.key === key);
  return e && typeof e.value === 'string' ? e.value : null;
}

/**
 * An open model's tensor list as the engine keeps it: the parsed header's tensor infos (which the
 * reader holds anyway) and one number per tensor for its count of blocks with non-finite scales.
 * The contract's TensorSummary objects are made only for the tensors a response carries, so an open
 * model of 10^6 tensors costs its parsed header and 8 MB, not a second object per tensor.
 */
export class TensorIndex {
  /** per tensor: the count of non-finite-scale blocks; NaN where the scales were not scanned */
  private readonly nonFinite: Float64Array;

  /** `split`: the model has several files (tensor summaries then name theirs) */
  constructor(
    readonly tensors: readonly GgufTensorInfo[],
    private readonly split = false,
  ) {
    this.nonFinite = new Float64Array(tensors.length).fill(NaN);
  }

  get length(): number {
    return this.tensors.length;
  }

  /** A supported tensor's scan result: a count, or null (not scanned). */
  setNonFinite(index: number, blocks: number | null): void {
    if (index >= 0 && index < this.nonFinite.length) this.nonFinite[index] = blocks ?? NaN;
  }

  /** Tensor i as the contract describes it (nonFiniteBlocks on supported tensors only). */
  summary(i: number): TensorSummary {
    const t = this.tensors[i];
    const s = tensorSummary(t, this.split);
    if (t.supported) s.nonFiniteBlocks = Number.isNaN(this.nonFinite[i]) ? null : this.nonFinite[i];
    return s;
  }

  /** Tensors [offset, offset + limit), in file order. */
  page(offset: number, limit: number): TensorSummary[] {
    const end = Math.min(this.tensors.length, offset + limit);
    const out: TensorSummary[] = [];
    for (let i = offset; i < end; i++) out.push(this.summary(i));
    return out;
  }
}

/** opts.tensors false leaves `tensors` empty, for callers that produce the list while writing it. */
export function summarizeModel(
  file: GgufFile,
  modelId: string,
  openMs: number,
  opts: { tensors?: boolean } = {},
): ModelSummary {
  const h = file.header;
  const split = file.shards.length > 1;
  const metadata: MetadataEntry[] = h.metadata.map((e) => ({
    key: e.key,
    type: VALUE_TYPE_NAMES[e.type] ?? String(e.type),
    value: formatMetadataValue(e, 8),
  }));
  const typeBytes: Record<string, number> = {};
  for (const t of h.tensors) typeBytes[t.typeName] = (typeBytes[t.typeName] ?? 0) + t.nbytes;
  return {
    modelId,
    path: file.path,
    fileName: path.basename(file.path),
    fileSize: h.fileSize,
    version: h.version,
    architecture: metaString(h, 'general.architecture'),
    name: metaString(h, 'general.name'),
    alignment: h.alignment,
    metadata,
    ...(split
      ? {
          files: file.shards.map((s) => ({
            path: s.path,
            fileName: path.basename(s.path),
            size: s.header.fileSize,
          })),
        }
      : {}),
    tensors: opts.tensors === false ? [] : h.tensors.map((t) => tensorSummary(t, split)),
    tensorCount: h.tensors.length,
    typeBytes,
    warnings: [...h.warnings],
    openMs,
  };
}

/** Glob (* and ?) list, comma-separated, to a predicate. Hand-written: 6 lines, not worth a dependency. */
export function globMatcher(spec: string): (name: string) => boolean {
  const res = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(
      (g) =>
        new RegExp(
          '^' +
            g
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '.*')
              .replace(/\?/g, '.') +
            '$',
        ),
    );
  return (name) => res.some((r) => r.test(name));
}

/**
 * The tensors of a model that comma-separated globs over their names select (all of them without a
 * spec), split into those the backends compute and those they cannot, in file order.
 */
export function selectTensors<T extends { name: string; supported: boolean }>(
  tensors: readonly T[],
  spec?: string,
): { supported: T[]; unsupported: T[] } {
  const match = spec ? globMatcher(spec) : () => true;
  const supported: T[] = [];
  const unsupported: T[] = [];
  for (const t of tensors) if (match(t.name)) (t.supported ? supported : unsupported).push(t);
  return { supported, unsupported };
}
