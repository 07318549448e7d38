// make-model's file types: every one plans valid tensors, and the _s/_m/_l mixes raise the tensors
// llama.cpp raises.
import { describe, it, expect } from 'vitest';
import { FTYPES, PRESETS, parseTypeList, planTensors } from '../../src-main/engine/models/presets';
import { GgmlType, typeName } from '../../src-main/engine/ggml-types';

const P = PRESETS['llama-3-8b']; // 32 layers, n_gqa 4
const typeOf = (ft: (typeof FTYPES)[number], name: string) =>
  typeName(planTensors(P, { ftype: ft }).find((t) => t.name === name)!.type);

describe('make-model file types', () => {
  it('every ftype plans supported types whose blocks divide the rows', () => {
    for (const ft of FTYPES) {
      const plan = planTensors(PRESETS.tiny, { ftype: ft });
      for (const t of plan) expect(t.dims[0] % (t.type === GgmlType.F32 ? 1 : 32)).toBe(0);
      expect(plan.find((t) => t.name === 'output.weight')!.type).toBe(
        ft === 'q8_0' ? GgmlType.Q8_0 : ft === 'mixed' ? plan.at(-1)!.type : GgmlType.Q6_K,
      );
    }
  });

  it('gives each mix its base type and llama.cpp-like raises', () => {
    const base: Record<string, string> = {
      q2_k: 'Q2_K',
      q3_k_s: 'Q3_K',
      q3_k_m: 'Q3_K',
      q3_k_l: 'Q3_K',
      q4_0: 'Q4_0',
      q4_1: 'Q4_1',
      q5_0: 'Q5_0',
      q5_1: 'Q5_1',
      q4_k_s: 'Q4_K',
      q4_k_m: 'Q4_K',
      q5_k_s: 'Q5_K',
      q5_k_m: 'Q5_K',
      q6_k: 'Q6_K',
      q8_0: 'Q8_0',
      iq4_nl: 'IQ4_NL',
      iq4_xs: 'IQ4_XS',
    };
    for (const [ft, t] of Object.entries(base)) {
      expect(typeOf(ft as (typeof FTYPES)[number], 'blk.10.ffn_gate.weight')).toBe(t);
      expect(typeOf(ft as (typeof FTYPES)[number], 'token_embd.weight')).toBe(t);
    }
    expect(typeOf('q2_k', 'blk.5.attn_v.weight')).toBe('Q4_K'); // n_gqa >= 4
    expect(typeOf('q2_k', 'blk.5.ffn_down.weight')).toBe('Q3_K');
    expect(typeOf('q2_k', 'blk.5.attn_output.weight')).toBe('Q3_K');
    expect(typeOf('q3_k_m', 'blk.1.attn_v.weight')).toBe('Q5_K');
    expect(typeOf('q3_k_m', 'blk.2.attn_v.weight')).toBe('Q4_K');
    expect(typeOf('q3_k_m', 'blk.1.ffn_down.weight')).toBe('Q5_K'); // < 32/16
    expect(typeOf('q3_k_m', 'blk.2.ffn_down.weight')).toBe('Q4_K');
    expect(typeOf('q3_k_l', 'blk.9.ffn_down.weight')).toBe('Q5_K');
    expect(typeOf('q3_k_s', 'blk.9.ffn_down.weight')).toBe('Q3_K');
    expect(typeOf('q4_k_m', 'blk.0.ffn_down.weight')).toBe('Q6_K');
    expect(typeOf('q4_k_m', 'blk.4.ffn_down.weight')).toBe('Q4_K');
    expect(typeOf('q4_k_m', 'blk.6.attn_v.weight')).toBe('Q6_K'); // (6 - 4) % 3 === 2
    expect(typeOf('q4_k_s', 'blk.3.attn_v.weight')).toBe('Q5_K');
    expect(typeOf('q4_k_s', 'blk.4.attn_v.weight')).toBe('Q4_K');
    expect(typeOf('iq4_xs', 'blk.9.attn_v.weight')).toBe('Q5_K');
    expect(typeOf('iq4_nl', 'blk.3.ffn_down.weight')).toBe('Q5_K');
    expect(typeOf('iq4_nl', 'blk.4.ffn_down.weight')).toBe('IQ4_NL');
    expect(typeOf('q5_k_s', 'blk.0.attn_v.weight')).toBe('Q5_K');
  });

  it('--types accepts every registered format and names the supported ones on a bad type', () => {
    expect(parseTypeList('q2_k,Q3_K,iq4_nl,iq4_xs,q4_1,q5_0,q5_1')).toEqual([10, 11, 20, 23, 3, 6, 7]);
    expect(() => parseTypeList('iq2_xxs')).toThrow(/IQ2_XXS cannot be generated \(supported: .*iq4_xs/);
    expect(() => parseTypeList('q9')).toThrow("unknown type 'q9'");
  });
});
