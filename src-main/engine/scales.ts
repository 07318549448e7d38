/**
 * Non-finite block scales (docs/gguf-hardening.md rule 9), counted per tensor from its data.
 *
 * Counting reads every byte of a tensor, so a model is scanned when it is opened only while its
 * supported tensor data stays under SCAN_ON_OPEN_BYTES (a sample or a test model: milliseconds).
 * Larger models are not read on open (a 100 GB model would take minutes); each tensor is scanned
 * when a run reads its data anyway (../run/verdict.ts), and its results carry the count.
 * `quantscope inspect --scan-scales` scans any model on request, tensor by tensor.
 */
import type { ModelSummary } from '../../src-shared/contract';
import { scanScales } from './formats';
import { formatSpec } from './formats/registry';
import type { GgufFile, GgufTensorInfo } from './gguf';
import type { TensorIndex } from './model';

/** Supported tensor bytes up to which a model is scanned when it is opened. */
export const SCAN_ON_OPEN_BYTES = 256 * 2 ** 20;
/** The read window of a scan. */
const CHUNK = 64 * 2 ** 20;
/** Warnings listed by name before the rest are counted in one line. */
const NAMED_WARNINGS = 20;

/** Tensors whose type has half scales to check. */
function hasScales(t: GgufTensorInfo): boolean {
  return t.supported && (formatSpec(t.type)?.scaleOffsets.length ?? 0) > 0;
}

/** The bytes a full scan of the file reads. */
export function scanBytes(file: GgufFile): number {
  let total = 0;
  for (const t of file.header.tensors) if (hasScales(t)) total += t.nbytes;
  return total;
}

/**
 * Counts non-finite-scale blocks of every supported tensor with scales (tensor index -> blocks;
 * a supported tensor missing from the map has no scales: 0), reading at most 64 MiB at a time. Null when the data
 * exceeds `maxBytes`.
 */
export async function scanModelScales(
  file: GgufFile,
  maxBytes = SCAN_ON_OPEN_BYTES,
): Promise<Map<number, number> | null> {
  if (scanBytes(file) > maxBytes) return null;
  const counts = new Map<number, number>();
  const withScales: GgufTensorInfo[] = [];
  for (const t of file.header.tensors) {
    if (!t.supported) continue;
    if (hasScales(t) && t.n > 0) withScales.push(t);
  }
  // In file order (file by file for a split model), through one window of at most CHUNK bytes: a
  // million small tensors cost a few dozen reads, not a million; a tensor larger than the window is
  // read in row chunks.
  withScales.sort((x, y) => x.shard - y.shard || x.offset - y.offset);
  let win: Uint8Array = new Uint8Array(0);
  let winStart = 0;
  let winShard = -1;
  for (const t of withScales) {
    if (t.nbytes > CHUNK) {
      const rowBytes = t.nbytes / t.n;
      const rowsPer = Math.max(1, Math.floor(CHUNK / rowBytes));
      let bad = 0;
      for (let r = 0; r < t.n; r += rowsPer)
        bad += scanScales(t.type, await file.readRows(t, r, Math.min(rowsPer, t.n - r))).badBlocks;
      counts.set(t.index, bad);
      continue;
    }
    if (t.shard !== winShard || t.offset < winStart || t.offset + t.nbytes > winStart + win.length) {
      const end = file.shards[t.shard].header.fileSize;
      winShard = t.shard;
      winStart = t.offset;
      win = await file.readBytes(winStart, Math.min(CHUNK, end - winStart), t.shard);
    }
    const at = t.offset - winStart;
    counts.set(t.index, scanScales(t.type, win.subarray(at, at + t.nbytes)).badBlocks);
  }
  return counts;
}

/**
 * Puts scan counts on an open model's tensor index (nonFiniteBlocks: a count, or null where not
 * scanned) and a warning per affected tensor on its summary (the first NAMED_WARNINGS by name, then
 * one line for the rest).
 */
export function applyScaleScan(
  summary: ModelSummary,
  index: TensorIndex,
  counts: Map<number, number> | null,
): void {
  let named = 0;
  let more = 0;
  for (const t of index.tensors) {
    if (!t.supported) continue;
    const c = counts ? (counts.get(t.index) ?? 0) : null;
    index.setNonFinite(t.index, c);
    if (c && c > 0) {
      if (named < NAMED_WARNINGS) {
        summary.warnings.push(nonFiniteText(t.name, c));
        named++;
      } else more++;
    }
  }
  if (more > 0) summary.warnings.push(`non-finite scales in ${more} more tensors`);
}

/** "blk.0.attn_q.weight: non-finite scales: 2 blocks" */
export function nonFiniteText(name: string, blocks: number): string {
  return `${name}: non-finite scales: ${blocks} block${blocks === 1 ? '' : 's'}`;
}
