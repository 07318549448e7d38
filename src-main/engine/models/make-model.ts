/** Writes a synthetic GGUF model: real tensor names and shapes, random weights, our quantizers. */
import fs from 'node:fs/promises';
import {
  GgufWriter,
  GgufValueType,
  SPLIT_COUNT,
  SPLIT_NO,
  SPLIT_TENSORS,
  encodeGgufHeader,
  md,
  type MetaInput,
} from '../gguf';
import { quantize } from '../formats';
import { rowBytes, typeInfo } from '../ggml-types';
import { Rng } from '../rng';
import { planTensors, type Ftype, type ModelPreset, type TensorPlan } from './presets';

export interface MakeModelOptions {
  out: string;
  preset: ModelPreset;
  ftype?: Ftype;
  types?: number[];
  seed: number;
  /**
   * 'zeros' writes all-zero blocks (valid, fast); 'sparse' writes only the header and leaves the
   * data a hole in the file that reads as zeros (instant, takes no disk; for open-speed tests).
   */
  fill?: 'random' | 'zeros' | 'sparse';
  onProgress?: (bytesDone: number, bytesTotal: number, tensor: string) => void;
  signal?: AbortSignal;
}

export function tensorBytes(t: TensorPlan): number {
  const k = t.dims[0];
  const n = t.dims.slice(1).reduce((a, b) => a * b, 1);
  return rowBytes(t.type, k) * n;
}

function metadataFor(p: ModelPreset, tensors: TensorPlan[], ftypeLabel: string): MetaInput[] {
  const a = p.arch;
  const tokens: string[] = [];
  const tokenTypes: number[] = [];
  for (let i = 0; i < p.nVocab; i++) {
    tokens.push(i < 256 ? `<0x${i.toString(16).toUpperCase().padStart(2, '0')}>` : `tok_${i}`);
    tokenTypes.push(i < 256 ? 6 : 1);
  }
  void tensors;
  return [
    md.string('general.architecture', a),
    md.string('general.name', p.modelName),
    md.string('general.quantized_by', 'QuantScope make-model'),
    md.string('quantscope.ftype', ftypeLabel),
    md.u32(`${a}.context_length`, p.nCtx),
    md.u32(`${a}.embedding_length`, p.nEmbd),
    md.u32(`${a}.block_count`, p.nLayer),
    md.u32(`${a}.feed_forward_length`, p.nFf),
    md.u32(`${a}.rope.dimension_count`, p.nEmbd / p.nHead),
    md.u32(`${a}.attention.head_count`, p.nHead),
    md.u32(`${a}.attention.head_count_kv`, p.nHeadKv),
    md.f32(`${a}.rope.freq_base`, p.ropeTheta),
    md.f32(`${a}.attention.layer_norm_rms_epsilon`, 1e-5),
    md.u32(`${a}.vocab_size`, p.nVocab),
    md.string('tokenizer.ggml.model', 'gpt2'),
    md.array('tokenizer.ggml.tokens', GgufValueType.STRING, tokens),
    md.array('tokenizer.ggml.token_type', GgufValueType.INT32, tokenTypes),
    md.u32('tokenizer.ggml.bos_token_id', 1),
    md.u32('tokenizer.ggml.eos_token_id', 2),
    md.u32('general.alignment', 32),
  ];
}

/**
 * The tensors of each file of a model written as `files` files: consecutive runs of at most
 * ceil(tensors / files) tensors, as llama.cpp's gguf-split divides by tensor count.
 */
export function splitPlan<T>(tensors: readonly T[], files: number): T[][] {
  const per = Math.ceil(tensors.length / files);
  const out: T[][] = [];
  for (let i = 0; i < files; i++) out.push(tensors.slice(i * per, (i + 1) * per));
  return out;
}

/**
 * Writes the model to `opts.out`, or, with `opts.outs` of several paths, as a split model of that
 * many files (the first with the metadata, each with the split keys; ../gguf/split.ts). The weights
 * are the same as the model in one file with the same seed. Returns the tensor bytes written.
 */
export async function makeModel(
  opts: MakeModelOptions & { outs?: string[] },
): Promise<{ bytes: number; tensors: TensorPlan[] }> {
  const tensors = planTensors(opts.preset, { ftype: opts.ftype, types: opts.types });
  const label = opts.types?.length
    ? opts.types.map((t) => typeInfo(t)!.name).join(',')
    : (opts.ftype ?? 'q4_k_m');
  const outs = opts.outs && opts.outs.length > 1 ? opts.outs : [opts.out];
  if (outs.length > tensors.length)
    throw new Error(`${outs.length} files are more than the model's ${tensors.length} tensors`);
  const groups = splitPlan(tensors, outs.length);
  const metadata = metadataFor(opts.preset, tensors, label);
  const metaOf = (i: number): MetaInput[] =>
    outs.length === 1
      ? metadata
      : [
          ...(i === 0 ? metadata : []),
          md.u16(SPLIT_NO, i),
          md.u16(SPLIT_COUNT, outs.length),
          md.i32(SPLIT_TENSORS, tensors.length),
        ];
  const layout = (i: number) => ({
    metadata: metaOf(i),
    tensors: groups[i].map((t) => ({ name: t.name, type: t.type, dims: t.dims })),
    alignment: 32,
  });
  const total = tensors.reduce((s, t) => s + tensorBytes(t), 0);
  if (opts.fill === 'sparse') {
    for (let i = 0; i < outs.length; i++) {
      const h = encodeGgufHeader(layout(i));
      const fh = await fs.open(outs[i], 'w');
      try {
        await fh.write(h.bytes, 0, h.bytes.length, 0);
        await fh.truncate(h.fileSize);
      } finally {
        await fh.close();
      }
    }
    opts.onProgress?.(total, total, '');
    return { bytes: total, tensors };
  }
  let done = 0;
  const rng = new Rng(opts.seed);
  const zeros = new Uint8Array(16 << 20);
  for (let i = 0; i < outs.length; i++) {
    const writer = await GgufWriter.create(outs[i], layout(i));
    try {
      for (const t of groups[i]) {
        const k = t.dims[0];
        const n = t.dims.slice(1).reduce((a, b) => a * b, 1);
        const rb = rowBytes(t.type, k);
        const rowsPerChunk = Math.max(1, Math.floor((8 << 20) / Math.max(rb, k * 4)));
        for (let r0 = 0; r0 < n; r0 += rowsPerChunk) {
          if (opts.signal?.aborted) throw new Error('cancelled');
          const rows = Math.min(rowsPerChunk, n - r0);
          let chunk: Uint8Array;
          if (opts.fill === 'zeros') {
            chunk = rows * rb <= zeros.length ? zeros.subarray(0, rows * rb) : new Uint8Array(rows * rb);
          } else {
            // weights ~ N(0, 1/sqrt(k)) like trained layers; norms ~ 1 + small noise
            const std = t.weight ? 1 / Math.sqrt(k) : 0.1;
            const v = rng.normalF32(rows * k, std);
            if (!t.weight) for (let j = 0; j < v.length; j++) v[j] += 1;
            chunk = quantize(t.type, v, rows, k);
          }
          await writer.writeTensorData(t.name, chunk);
          done += chunk.length;
          opts.onProgress?.(done, total, t.name);
        }
      }
      await writer.close();
    } catch (e) {
      await writer.close().catch(() => undefined);
      throw e;
    }
  }
  return { bytes: done, tensors };
}
