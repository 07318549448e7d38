/** Tensor table logic: filtering, sorting and selection (pure, unit-tested). */
import { LIMITS } from '../../../src-shared/contract/limits';
import type { ModelSummary, QuantScopeApi, TensorResult, TensorSummary } from '../../../src-shared/contract';
import { nameMatcher } from './nameMatch';

export interface TensorFilter {
  /** name filter: comma list of globs or substrings, as nameMatcher reads it */
  text: string;
  /** type name, '' = all, 'supported' = any supported type */
  type: string;
  /** '' = all, 'none' = tensors without a layer, else the layer number */
  layer: string;
}

export const EMPTY_FILTER: TensorFilter = { text: '', type: '', layer: '' };

export type TensorSortKey = 'index' | 'name' | 'type' | 'shape' | 'nbytes' | 'layer' | 'supported';
export interface SortState<K extends string> {
  key: K;
  dir: 'asc' | 'desc';
}

export function filterTensors(tensors: TensorSummary[], f: TensorFilter): TensorSummary[] {
  const match = nameMatcher(f.text);
  const layerNum = f.layer !== '' && f.layer !== 'none' ? Number(f.layer) : null;
  return tensors.filter((t) => {
    if (f.type === 'supported' ? !t.supported : f.type !== '' && t.typeName !== f.type) return false;
    if (f.layer === 'none' && t.layer !== null) return false;
    if (layerNum !== null && t.layer !== layerNum) return false;
    return match === null || match(t.name);
  });
}

const tensorKey: Record<TensorSortKey, (t: TensorSummary) => number | string> = {
  index: (t) => t.index,
  name: (t) => t.name,
  type: (t) => t.typeName,
  shape: (t) => t.n * t.k,
  nbytes: (t) => t.nbytes,
  layer: (t) => t.layer ?? -1,
  supported: (t) => (t.supported ? 1 : 0),
};

export function compareValues(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
    if (Number.isNaN(b)) return -1;
    return a - b;
  }
  return String(a).localeCompare(String(b), 'en', { numeric: true });
}

export function sortTensors(list: TensorSummary[], s: SortState<TensorSortKey>): TensorSummary[] {
  const get = tensorKey[s.key];
  const sign = s.dir === 'asc' ? 1 : -1;
  return [...list].sort((a, b) => sign * compareValues(get(a), get(b)) || a.index - b.index);
}

/** Distinct layers (sorted) and types present in a model, for the filter menus. */
export function tensorFacets(tensors: TensorSummary[]): { types: string[]; layers: number[] } {
  const types = new Set<string>();
  const layers = new Set<number>();
  for (const t of tensors) {
    types.add(t.typeName);
    if (t.layer !== null) layers.add(t.layer);
  }
  return { types: [...types].sort(), layers: [...layers].sort((a, b) => a - b) };
}

/**
 * Click on a row checkbox: plain click toggles one; shift-click sets every row between the
 * anchor and this one (in the order shown) to the new state of the clicked row.
 */
export function clickSelect(
  selected: ReadonlySet<string>,
  shown: string[],
  name: string,
  anchor: string | null,
  shift: boolean,
): Set<string> {
  const next = new Set(selected);
  const on = !selected.has(name);
  const a = anchor === null ? -1 : shown.indexOf(anchor);
  const b = shown.indexOf(name);
  if (shift && a >= 0 && b >= 0) {
    const [lo, hi] = a < b ? [a, b] : [b, a];
    for (let i = lo; i <= hi; i++) {
      if (on) next.add(shown[i]);
      else next.delete(shown[i]);
    }
  } else if (on) next.add(name);
  else next.delete(name);
  return next;
}

/** Select all filtered (supported) rows, or clear them when all are selected already. */
export function toggleAll(selected: ReadonlySet<string>, shown: TensorSummary[]): Set<string> {
  const eligible = shown.filter((t) => t.supported).map((t) => t.name);
  const next = new Set(selected);
  const allOn = eligible.length > 0 && eligible.every((n) => selected.has(n));
  for (const n of eligible) {
    if (allOn) next.delete(n);
    else next.add(n);
  }
  return next;
}

export function selectionState(
  selected: ReadonlySet<string>,
  shown: TensorSummary[],
): 'none' | 'some' | 'all' {
  const eligible = shown.filter((t) => t.supported);
  const count = eligible.filter((t) => selected.has(t.name)).length;
  return count === 0 ? 'none' : count === eligible.length ? 'all' : 'some';
}

/** What the model view shows for a tensor with NaN or infinite block scales. */
export function nonFiniteLabel(blocks: number): string {
  return `non-finite scales: ${blocks} block${blocks === 1 ? '' : 's'}`;
}

/**
 * The model with the scale counts its run's results carry (a large model is scanned per tensor when
 * run, not on open): the same object when nothing changes, so a million-tensor table re-renders
 * when a tensor gains a count above zero.
 */
export function withResultScans(model: ModelSummary, results: readonly TensorResult[]): ModelSummary {
  let tensors: TensorSummary[] | null = null;
  let index: Map<string, number> | null = null;
  for (const r of results) {
    // a count of 0 shows as a plain "yes", like a tensor not scanned: only counts above 0 matter
    const blocks = r.nonFiniteBlocks ?? 0;
    if (r.status === 'error' || blocks === 0) continue;
    index ??= new Map(model.tensors.map((t, i) => [t.name, i]));
    const i = index.get(r.tensor);
    if (i === undefined) continue;
    const t = (tensors ?? model.tensors)[i];
    if (t.nonFiniteBlocks === blocks) continue;
    tensors ??= model.tensors.slice();
    tensors[i] = { ...t, nonFiniteBlocks: blocks };
  }
  return tensors ? { ...model, tensors } : model;
}

/**
 * A summary with its whole tensor list: a large model's summary comes without one (tensorsPaged),
 * and its tensors are read page by page through listTensors, each a response of a few MB.
 */
export async function withAllTensors(
  api: Pick<QuantScopeApi, 'listTensors'>,
  model: ModelSummary,
): Promise<ModelSummary> {
  if (!model.tensorsPaged) return model;
  const tensors: TensorSummary[] = [];
  while (tensors.length < model.tensorCount) {
    const page = await api.listTensors({
      modelId: model.modelId,
      offset: tensors.length,
      limit: LIMITS.tensorPage,
    });
    if (page.tensors.length === 0)
      throw new Error(`the tensor list ended at ${tensors.length} of ${model.tensorCount}`);
    for (const t of page.tensors) tensors.push(t);
  }
  return { ...model, tensors, tensorsPaged: false };
}
