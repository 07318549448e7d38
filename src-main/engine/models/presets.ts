/**
 * Synthetic models with real architectures' tensor names and shapes, and llama.cpp-like
 * quantization mixes, so whole-model checks can run without downloading a model.
 */
import { FORMATS } from '../formats/registry';
import { GgmlType, typeByName, typeInfo } from '../ggml-types';

export interface ModelPreset {
  name: string;
  description: string;
  arch: 'llama';
  modelName: string;
  nEmbd: number;
  nFf: number;
  nLayer: number;
  nVocab: number;
  nHead: number;
  nHeadKv: number;
  nCtx: number;
  ropeTheta: number;
}

export const PRESETS: Record<string, ModelPreset> = {
  tiny: {
    name: 'tiny',
    description: '2 layers, 512 wide, mixed quant types (the sample model, ~3.6 MB)',
    arch: 'llama',
    modelName: 'QuantScope Tiny Llama (synthetic)',
    nEmbd: 512,
    nFf: 1024,
    nLayer: 2,
    nVocab: 1024,
    nHead: 8,
    nHeadKv: 2,
    nCtx: 2048,
    ropeTheta: 500000,
  },
  'llama-3-1b-shape': {
    name: 'llama-3-1b-shape',
    description: 'Llama 3.2 1B shapes: 16 layers, 2048 wide, FFN 8192, vocab 128256',
    arch: 'llama',
    modelName: 'Llama-3.2-1B shapes (synthetic)',
    nEmbd: 2048,
    nFf: 8192,
    nLayer: 16,
    nVocab: 128256,
    nHead: 32,
    nHeadKv: 8,
    nCtx: 131072,
    ropeTheta: 500000,
  },
  'llama-3.1-405b': {
    name: 'llama-3.1-405b',
    description:
      'Llama 3.1 405B shapes: 126 layers, 16384 wide, FFN 53248 (1137 tensors, ~230 GB at Q4_K_M; use --fill sparse)',
    arch: 'llama',
    modelName: 'Meta-Llama-3.1-405B shapes (synthetic)',
    nEmbd: 16384,
    nFf: 53248,
    nLayer: 126,
    nVocab: 128256,
    nHead: 128,
    nHeadKv: 8,
    nCtx: 131072,
    ropeTheta: 500000,
  },
  'llama-3-8b': {
    name: 'llama-3-8b',
    description: 'Llama 3 8B shapes: 32 layers, 4096 wide, FFN 14336, vocab 128256 (~4.6 GB at Q4_K_M)',
    arch: 'llama',
    modelName: 'Meta-Llama-3-8B shapes (synthetic)',
    nEmbd: 4096,
    nFf: 14336,
    nLayer: 32,
    nVocab: 128256,
    nHead: 32,
    nHeadKv: 8,
    nCtx: 8192,
    ropeTheta: 500000,
  },
};

export interface TensorPlan {
  name: string;
  /** dims innermost first, as GGUF stores them: [k, n] for weights */
  dims: number[];
  type: number;
  /** 2-D weight (quantizable) vs 1-D norm */
  weight: boolean;
}

/**
 * llama.cpp's file types we imitate, plus 'mixed' (the quant types that have GPU kernels, cycled over
 * the weight tensors). See FTYPE_BASE and ftypeTensorType for the per-tensor choices.
 */
export const FTYPES = [
  'q2_k',
  'q3_k_s',
  'q3_k_m',
  'q3_k_l',
  'q4_0',
  'q4_1',
  'q5_0',
  'q5_1',
  'q4_k_s',
  'q4_k_m',
  'q5_k_s',
  'q5_k_m',
  'q6_k',
  'q8_0',
  'iq4_nl',
  'iq4_xs',
  'mixed',
] as const;
export type Ftype = (typeof FTYPES)[number];

/** The type of most weight tensors (ffn_gate, ffn_up, attn_q, attn_k, token_embd) per file type. */
const FTYPE_BASE: Record<Exclude<Ftype, 'mixed'>, number> = {
  q2_k: GgmlType.Q2_K,
  q3_k_s: GgmlType.Q3_K,
  q3_k_m: GgmlType.Q3_K,
  q3_k_l: GgmlType.Q3_K,
  q4_0: GgmlType.Q4_0,
  q4_1: GgmlType.Q4_1,
  q5_0: GgmlType.Q5_0,
  q5_1: GgmlType.Q5_1,
  q4_k_s: GgmlType.Q4_K,
  q4_k_m: GgmlType.Q4_K,
  q5_k_s: GgmlType.Q5_K,
  q5_k_m: GgmlType.Q5_K,
  q6_k: GgmlType.Q6_K,
  q8_0: GgmlType.Q8_0,
  iq4_nl: GgmlType.IQ4_NL,
  iq4_xs: GgmlType.IQ4_XS,
};

/** llama.cpp gives more bits to the first and last eighth of the layers and every third between. */
function useMoreBits(layer: number, nLayer: number): boolean {
  return layer < nLayer / 8 || layer >= (7 * nLayer) / 8 || (layer - Math.floor(nLayer / 8)) % 3 === 2;
}

/**
 * The per-tensor type of a file type, after llama.cpp's llama_tensor_get_type for a llama model
 * without an importance matrix (one attn_v and one ffn_down per layer, so their counters are the
 * layer index; n_gqa = heads / kv heads):
 * - output: Q8_0 for q8_0, Q6_K for every other file type; token_embd: the base type;
 * - attn_v: q2_k Q4_K when n_gqa >= 4 (else Q3_K); q3_k_m Q5_K in layers 0-1, then Q4_K; q3_k_l Q5_K;
 *   iq4_nl / iq4_xs Q5_K when n_gqa >= 4; q4_k_m / q5_k_m Q6_K in the useMoreBits layers; q4_k_s Q5_K
 *   in layers 0-3;
 * - ffn_down: q2_k Q3_K; q3_k_m Q5_K in the first sixteenth of the layers, then Q4_K; q3_k_l Q5_K;
 *   q4_k_m / q5_k_m Q6_K in the useMoreBits layers; q4_k_s, iq4_nl, iq4_xs Q5_K in the first eighth;
 * - attn_output: q2_k Q3_K, q3_k_m Q4_K, q3_k_l Q5_K;
 * - everything else (and every tensor of q3_k_s, q5_k_s, the legacy types, q6_k): the base type.
 */
export function ftypeTensorType(
  ft: Exclude<Ftype, 'mixed'>,
  role: string,
  layer: number | null,
  p: ModelPreset,
): number {
  const base = FTYPE_BASE[ft];
  if (role === 'output') return ft === 'q8_0' ? GgmlType.Q8_0 : GgmlType.Q6_K;
  const l = layer ?? 0;
  const n = p.nLayer;
  const gqa4 = p.nHead / p.nHeadKv >= 4;
  if (role === 'attn_v') {
    if (ft === 'q2_k') return gqa4 ? GgmlType.Q4_K : GgmlType.Q3_K;
    if (ft === 'q3_k_m') return l < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
    if (ft === 'q3_k_l') return GgmlType.Q5_K;
    if ((ft === 'iq4_nl' || ft === 'iq4_xs') && gqa4) return GgmlType.Q5_K;
    if ((ft === 'q4_k_m' || ft === 'q5_k_m') && useMoreBits(l, n)) return GgmlType.Q6_K;
    if (ft === 'q4_k_s' && l < 4) return GgmlType.Q5_K;
  } else if (role === 'ffn_down') {
    if (ft === 'q2_k') return GgmlType.Q3_K;
    if (ft === 'q3_k_m') return l < n / 16 ? GgmlType.Q5_K : GgmlType.Q4_K;
    if (ft === 'q3_k_l') return GgmlType.Q5_K;
    if ((ft === 'q4_k_m' || ft === 'q5_k_m') && useMoreBits(l, n)) return GgmlType.Q6_K;
    if ((ft === 'q4_k_s' || ft === 'iq4_nl' || ft === 'iq4_xs') && l < n / 8) return GgmlType.Q5_K;
  } else if (role === 'attn_output') {
    if (ft === 'q2_k') return GgmlType.Q3_K;
    if (ft === 'q3_k_m') return GgmlType.Q4_K;
    if (ft === 'q3_k_l') return GgmlType.Q5_K;
  }
  return base;
}

const MIXED_CYCLE = [GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_0];

/**
 * llama.cpp's fallback for a tensor whose row length is not a multiple of the chosen type's block:
 * a 32-element type of similar size, then F16.
 */
const FALLBACK: Record<number, number> = {
  [GgmlType.Q2_K]: GgmlType.Q4_0,
  [GgmlType.Q3_K]: GgmlType.Q4_0,
  [GgmlType.Q4_K]: GgmlType.Q5_0,
  [GgmlType.Q5_K]: GgmlType.Q5_1,
  [GgmlType.Q6_K]: GgmlType.Q8_0,
  [GgmlType.IQ4_XS]: GgmlType.IQ4_NL,
};

export function parseTypeList(spec: string): number[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const t = typeByName(s);
      if (!t) throw new Error(`unknown type '${s}'`);
      if (!t.supported)
        throw new Error(
          `type ${t.name} cannot be generated (supported: ${FORMATS.map((f) => f.name.toLowerCase()).join(', ')})`,
        );
      return t.id;
    });
}

export function planTensors(p: ModelPreset, opts: { ftype?: Ftype; types?: number[] }): TensorPlan[] {
  const nKv = (p.nEmbd / p.nHead) * p.nHeadKv;
  const out: TensorPlan[] = [];
  let cycle = 0;
  const pick = (role: string, layer: number | null): number => {
    if (opts.types && opts.types.length) return opts.types[cycle++ % opts.types.length];
    const ft = opts.ftype ?? 'q4_k_m';
    return ft === 'mixed' ? MIXED_CYCLE[cycle++ % MIXED_CYCLE.length] : ftypeTensorType(ft, role, layer, p);
  };
  const w = (name: string, k: number, n: number, role: string, layer: number | null) => {
    let type = pick(role, layer);
    if (k % typeInfo(type)!.blockElems !== 0) {
      const fb = FALLBACK[type] ?? GgmlType.Q8_0;
      type = k % typeInfo(fb)!.blockElems === 0 ? fb : GgmlType.F16;
    }
    out.push({ name, dims: [k, n], type, weight: true });
  };
  const norm = (name: string, k: number) => out.push({ name, dims: [k], type: GgmlType.F32, weight: false });

  w('token_embd.weight', p.nEmbd, p.nVocab, 'token_embd', null);
  for (let l = 0; l < p.nLayer; l++) {
    const b = `blk.${l}.`;
    norm(b + 'attn_norm.weight', p.nEmbd);
    w(b + 'attn_q.weight', p.nEmbd, p.nEmbd, 'attn_q', l);
    w(b + 'attn_k.weight', p.nEmbd, nKv, 'attn_k', l);
    w(b + 'attn_v.weight', p.nEmbd, nKv, 'attn_v', l);
    w(b + 'attn_output.weight', p.nEmbd, p.nEmbd, 'attn_output', l);
    norm(b + 'ffn_norm.weight', p.nEmbd);
    w(b + 'ffn_gate.weight', p.nEmbd, p.nFf, 'ffn_gate', l);
    w(b + 'ffn_up.weight', p.nEmbd, p.nFf, 'ffn_up', l);
    w(b + 'ffn_down.weight', p.nFf, p.nEmbd, 'ffn_down', l);
  }
  norm('output_norm.weight', p.nEmbd);
  w('output.weight', p.nEmbd, p.nVocab, 'output', null);
  return out;
}
