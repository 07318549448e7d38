/**
 * The weight map of a FAIL: the identity probe's weights (as the kernel decoded them) beside the
 * declared reference's, laid out as the weights are, rows x probed elements, so the UI can draw
 * them over the format's blocks and sub-blocks. Kept in the output store next to the result's
 * outputs; weightGrid reduces them like the output heatmap, leaving out (and counting) the weight
 * rows whose outputs the verdict left out.
 */
import type { WeightMapInfo } from '../../../src-shared/contract';
import type { Probe } from '../diagnosis';
import { formatSpec } from '../formats/registry';
import { typeInfo } from '../ggml-types';
import type { OutputStore, StoredOutputs } from './outputs';

/**
 * The most probed weights a map keeps (12 bytes each): a run probes at most 512 elements a row, but an
 * identity pair of a large tensor probes every weight, and a copy of all of them is not worth its memory.
 */
export const MAX_MAP_WEIGHTS = 16 << 20;

/** The output store key of a result's weight map. */
export const weightMapKey = (resultId: string): string => `${resultId}#weights`;

/** Elements per block and per scale sub-block of a format (1 and 1 for float formats). */
export function blockShape(
  type: number,
  data: Uint8Array,
  k: number,
): { blockElems: number; subElems: number } {
  const fields = formatSpec(type)?.fields;
  if (fields) {
    const f = fields.decode(data, 0, k);
    return { blockElems: f.blockElems, subElems: f.subElems };
  }
  const info = typeInfo(type);
  const blockElems = info && !info.float ? info.blockElems : 1;
  return { blockElems, subElems: blockElems };
}

/** Consecutive runs of sorted element indices as half-open spans. */
export function elementSpans(elems: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const e of elems) {
    const last = out[out.length - 1];
    if (last && last[1] === e) last[1] = e + 1;
    else out.push([e, e + 1]);
  }
  return out;
}

/**
 * The probe as weights: ref and got [n][E] (row j, probed element r), with the weight rows the
 * verdict left out (non-finite block scales) as the rows to skip.
 */
export function probeAsWeights(p: Probe): StoredOutputs {
  const E = p.elems.length;
  const ref = new Float64Array(p.n * E);
  const got = new Float32Array(p.n * E);
  for (let r = 0; r < E; r++)
    for (let j = 0; j < p.n; j++) {
      ref[j * E + r] = p.ref[r * p.n + j];
      got[j * E + r] = p.got[r * p.n + j];
    }
  return { ref, got, m: p.n, n: E, ...(p.skipRows ? { skipRows: p.skipRows } : {}) };
}

/** How many weight rows of the probe were left out of the comparison. */
function rowsLeftOut(p: Probe): number {
  let count = 0;
  if (p.skipRows) for (let j = 0; j < p.n; j++) if (p.skipRows[j]) count++;
  return count;
}

/**
 * The description of a probe's weight map: where it looked, the format's blocks, and how many weight
 * rows were left out of the comparison (when any were).
 */
export function weightMapInfo(probe: Probe): WeightMapInfo {
  const left = rowsLeftOut(probe);
  return {
    n: probe.n,
    k: probe.k,
    ...blockShape(probe.type, probe.data, probe.k),
    spans: elementSpans(probe.elems),
    ...(left > 0 ? { rowsLeftOut: left } : {}),
  };
}

/** Whether a map keeps a probe's weights: at most MAX_MAP_WEIGHTS of them. */
export const mapKeeps = (probe: Probe | null): probe is Probe =>
  !!probe && probe.elems.length * probe.n <= MAX_MAP_WEIGHTS;

/** Stores a FAIL's probe for weightGrid; the map's description, or null when it cannot be kept. */
export function storeWeightMap(
  outputs: OutputStore | undefined,
  resultId: string,
  probe: Probe | null,
): WeightMapInfo | null {
  if (!outputs || !mapKeeps(probe)) return null;
  if (!outputs.put(weightMapKey(resultId), probeAsWeights(probe))) return null;
  return weightMapInfo(probe);
}
