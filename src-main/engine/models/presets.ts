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

/** llama.cpp's file types we imitate, plus 'mixed' (every supported quant type, cycled). */
export const FTYPES = ['q4_0', 'q8_0', 'q4_k_m', 'q5_k_m', 'q6_k', 'mixed'] as const;
export type Ftype = (typeof FTYPES)[number];

/** llama.cpp gives more bits to the first and last eighth of the layers and every third between. */
function useMoreBits(layer: number, nLayer: number): boolean {
  return layer < nLayer / 8 || layer >= (7 * nLayer) / 8 || (layer - Math.floor(nLayer / 8)) % 3 === 2;
}

const MIXED_CYCLE = [GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_0];

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
    switch (ft) {
      case 'q4_0':
        return role === 'output' ? GgmlType.Q6_K : GgmlType.Q4_0;
      case 'q8_0':
        return GgmlType.Q8_0;
      case 'q6_k':
        return GgmlType.Q6_K;
      case 'mixed':
        return MIXED_CYCLE[cycle++ % MIXED_CYCLE.length];
      case 'q4_k_m':
      case 'q5_k_m': {
        const base = ft === 'q4_k_m' ? GgmlType.Q4_K : GgmlType.Q5_K;
        if (role === 'output') return GgmlType.Q6_K;
        if ((role === 'attn_v' || role === 'ffn_down') && layer !== null && useMoreBits(layer, p.nLayer))
          return GgmlType.Q6_K;
        return base;
      }
    }
  };
  const w = (name: string, k: number, n: number, role: string, layer: number | null) => {
    let type = pick(role, layer);
    // a type whose block does not divide k falls back to Q8_0 (32) and then F16, as llama.cpp does
    const bi = typeInfo(type)!;
    if (k % bi.blockElems !== 0) type = k % 32 === 0 ? GgmlType.Q8_0 : GgmlType.F16;
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
