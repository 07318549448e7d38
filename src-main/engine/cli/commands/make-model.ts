import fs from 'node:fs/promises';
import { FORMATS } from '../../formats/registry';
import { makeModel, tensorBytes } from '../../models/make-model';
import { FTYPES, PRESETS, parseTypeList, planTensors, type Ftype } from '../../models/presets';
import { fmtBytes } from '../../report/report';
import { UsageError, choiceOption, intOption, stringOption, type CliCommand } from '../framework';
import { Progress } from '../table';
import { checkOutputs, openOutput, writeNamed, type PlannedOutput } from '../../output-path';
import { MAX_SPLIT_FILES, splitFileName } from '../../gguf';

export const makeModelCommand: CliCommand = {
  name: 'make-model',
  summary: 'write a synthetic GGUF model with real tensor names and shapes',
  help: `quantscope make-model --out <file.gguf> [--preset ${Object.keys(PRESETS).join('|')}]
                     [--ftype ${FTYPES.join('|')}] [--types q4_0,q4_k,...] [--seed N] [--fill random|zeros|sparse]
                     [--split N]
  Random weights (normal, std 1/sqrt(k)) quantized by QuantScope's quantizers, llama-style metadata.
  --ftype   llama.cpp-like mix (default: mixed for tiny, q4_k_m otherwise). Output is Q6_K (Q8_0 for
            q8_0); the _s/_m/_l mixes raise attn_v, ffn_down and attn_output of some layers as
            llama.cpp does (q4_k_m: Q6_K in the first and last eighth and every third layer between;
            q3_k_m: Q4_K/Q5_K; q2_k: Q3_K/Q4_K; iq4_*: Q5_K); mixed cycles the types with GPU kernels
  --types   explicit list of types, cycled over the weight tensors (norms stay F32): ${FORMATS.map((f) => f.name.toLowerCase()).join(',')}
  --fill    zeros: all-zero blocks (valid, fast); sparse: header only, data a sparse hole (instant)
  --split N write a split model of N files, as llama.cpp's gguf-split does: <name>-00001-of-0000N.gguf ...
            beside --out (which names <name>.gguf), the same weights as the model in one file
  --force   replace an existing file; the output is checked before writing (never a folder or
            device) and written through a temporary file renamed into place
  Presets: ${Object.values(PRESETS)
    .map((p) => `${p.name}: ${p.description}`)
    .join('\n           ')}`,
  options: {
    out: { type: 'string', short: 'o' },
    preset: { type: 'string', short: 'p' },
    ftype: { type: 'string' },
    types: { type: 'string' },
    seed: { type: 'string' },
    fill: { type: 'string' },
    split: { type: 'string' },
    force: { type: 'boolean', short: 'f' },
  },
  maxPositionals: 0,
  positionalHint: 'the file to write goes after --out',
  async run(ctx) {
    const out = stringOption(ctx.values, 'out');
    if (!out) throw new UsageError('make-model: --out <file.gguf> is required');
    const presetName = choiceOption(ctx.values, 'preset', Object.keys(PRESETS) as string[], 'tiny');
    const preset = PRESETS[presetName];
    const typesSpec = stringOption(ctx.values, 'types');
    let types: number[] | undefined;
    if (typesSpec !== undefined) {
      try {
        types = parseTypeList(typesSpec);
      } catch (e) {
        throw new UsageError(`--types: ${(e as Error).message}`);
      }
      if (types.length === 0) throw new UsageError('--types needs at least one type');
    }
    const ftype = choiceOption(
      ctx.values,
      'ftype',
      FTYPES,
      presetName === 'tiny' ? 'mixed' : 'q4_k_m',
    ) as Ftype;
    const seed = intOption(ctx.values, 'seed', 1, 0, 0xffffffff);
    const fill = choiceOption(ctx.values, 'fill', ['random', 'zeros', 'sparse'] as const, 'random');
    const plan = planTensors(preset, { ftype, types });
    const files = intOption(ctx.values, 'split', 1, 1, MAX_SPLIT_FILES);
    if (files > plan.length)
      throw new UsageError(
        `--split ${files}: the model has ${plan.length} tensors, fewer than the files asked for`,
      );
    let outs = [out];
    if (files > 1) {
      if (!out.endsWith('.gguf')) throw new UsageError(`--split: --out must name <name>.gguf, not ${out}`);
      const prefix = out.slice(0, -'.gguf'.length);
      outs = Array.from({ length: files }, (_, i) => splitFileName(prefix, i, files));
    }
    // what each path is (a folder, a device, a missing folder) first; then an existing file needs --force
    const targets = await checkOutputs(
      outs.map((p) => ({ option: '--out', path: p })),
      { force: true },
    );
    if (!ctx.values.force)
      for (const p of outs) {
        const exists = await fs.lstat(p).then(
          () => true,
          () => false,
        );
        if (exists) throw new UsageError(`${p} exists; pass --force to overwrite`);
      }
    const total = plan.reduce((s, t) => s + tensorBytes(t), 0);
    ctx.stderr.write(
      `writing ${files > 1 ? `${outs[0]} and ${files - 1} more files` : out}: ${preset.name}, ${plan.length} tensors, ${fmtBytes(total)} of tensor data\n`,
    );
    const progress = new Progress(ctx.stderr);
    const t0 = Date.now();
    const temps: PlannedOutput[] = [];
    try {
      for (const t of targets) temps.push(await openOutput(t));
      await writeNamed('--out', out, () =>
        makeModel({
          out: temps[0].tempPath,
          outs: temps.map((t) => t.tempPath),
          preset,
          ftype,
          types,
          seed,
          fill,
          onProgress: (done, tot, name) =>
            progress.update(
              `${Math.floor((100 * done) / tot)}%  ${fmtBytes(done)} / ${fmtBytes(tot)}  ${name}`,
            ),
        }),
      );
      for (let i = 0; i < temps.length; i++) await writeNamed('--out', outs[i], () => temps[i].commit());
    } finally {
      progress.done();
      for (const t of temps) await t.discard();
    }
    let size = 0;
    for (const p of outs) size += (await fs.stat(p)).size;
    ctx.stdout.write(
      `wrote ${files > 1 ? `${outs.join(', ')}` : out} (${fmtBytes(size)}) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    return 0;
  },
};
