import { GgufFile } from '../../gguf';
import { checkArithmetic, memorySource, referenceMatmul } from '../../reference';
import { SCHEMES, SCHEME_IDS, isSchemeId, type SchemeId } from '../../arithmetic/schemes';
import { oneLine } from '../../../../src-shared/contract';
import { backendFor } from '../../backends';
import { UsageError, choiceOption, intOption, stringOption, type CliCommand } from '../framework';
import { PATH_CHOICES } from '../../../../src-shared/contract';
import { FileSizeError, readRegularFile } from '../../gguf/file';
import { fileActivations } from '../../run/activations';
import { planOutput, writeAll, writeNamed } from '../../output-path';

export const matmulCommand: CliCommand = {
  name: 'matmul',
  summary: 'multiply activations by one tensor: y = x · Wᵀ',
  help: `quantscope matmul <file.gguf> <tensor> --input <x.f32|x.npy> --m <M> [--backend reference|cpu|cuda|hip] [--device N] [--path auto|f32|int8|mma|unfused] [--arithmetic f32|q8_1|qs8|qs8-mma|bf16|f16] --out <path>
  x is raw little-endian float32 [M][k] (or a float32 .npy of M rows of k), NaN and infinite values
  multiplied as they are; y is written row-major [M][n]: float64 for the reference backend, float32
  otherwise. With --backend reference, --arithmetic writes the reference of that declared
  arithmetic (operands rounded as it says; docs/arithmetic.md).
  The output is checked before any work (never an input, never a folder or device) and written
  through a temporary file renamed into place.
  --force  replace an existing model file (.gguf or GGUF content) named by --out`,
  options: {
    input: { type: 'string', short: 'i' },
    m: { type: 'string' },
    backend: { type: 'string', short: 'b' },
    device: { type: 'string' },
    path: { type: 'string' },
    arithmetic: { type: 'string' },
    out: { type: 'string', short: 'o' },
    force: { type: 'boolean', short: 'f' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  async run(ctx) {
    const [p, name] = ctx.positionals;
    const input = stringOption(ctx.values, 'input');
    const out = stringOption(ctx.values, 'out');
    if (!input) throw new UsageError('matmul: --input <x.f32|x.npy> is required');
    if (!out) throw new UsageError('matmul: --out <path> is required');
    if (ctx.values.m === undefined) throw new UsageError('matmul: --m <M> is required');
    const m = intOption(ctx.values, 'm', 1, 1, 1 << 20);
    const backendName = choiceOption(
      ctx.values,
      'backend',
      ['reference', 'cpu', 'cuda', 'hip'] as const,
      'reference',
    );
    const deviceIndex = intOption(ctx.values, 'device', 0, 0, 64);
    const pathChoice = choiceOption(ctx.values, 'path', PATH_CHOICES, 'auto');
    const arithmetic = stringOption(ctx.values, 'arithmetic');
    if (arithmetic !== undefined && !isSchemeId(arithmetic))
      throw new UsageError(
        `--arithmetic: unknown arithmetic '${arithmetic}' (one of ${SCHEME_IDS.join(', ')})`,
      );
    if (arithmetic !== undefined && backendName !== 'reference')
      throw new UsageError('--arithmetic applies to --backend reference (a kernel has its own arithmetic)');

    const target = await planOutput(
      { option: '--out', path: out },
      { inputs: [p, input], force: Boolean(ctx.values.force) },
    );
    let file: GgufFile | null = null;
    try {
      file = await GgufFile.open(p);
      const t = file.tensor(name);
      if (!t.supported)
        throw new UsageError(`${t.name}: ${t.unsupportedReason ?? `${t.typeName} is not supported`}`);
      let x: Float32Array;
      if (input.toLowerCase().endsWith('.npy')) {
        // a float32 .npy of shape [m][k] (or more rows: the first m), read as verify and check read
        // it; NaN and infinite values are multiplied as they are, as in a raw file
        try {
          x = await (await fileActivations(input, { finite: false }))(t.name, m, t.k);
        } catch (e) {
          throw new UsageError(`--input: ${oneLine(e)}`);
        }
      } else {
        let xBytes: Buffer;
        try {
          // refused by size before it is read
          xBytes = await readRegularFile(input, m * t.k * 4);
        } catch (e) {
          throw new UsageError(
            e instanceof FileSizeError
              ? `--input ${input} has ${e.size} bytes; m=${m} × k=${t.k} float32 needs ${e.expected}`
              : `--input ${oneLine(e)}`,
          );
        }
        x = new Float32Array(m * t.k);
        new Uint8Array(x.buffer).set(xBytes);
      }
      const data = await file.readTensor(t);
      let y: Float32Array | Float64Array;
      let what: string;
      if (backendName === 'reference') {
        const scheme = arithmetic ? SCHEMES[arithmetic as SchemeId] : undefined;
        if (scheme) {
          try {
            checkArithmetic(scheme, t.type);
          } catch (e) {
            throw new UsageError(oneLine(e));
          }
        }
        y = await referenceMatmul(memorySource(t.type, t.n, t.k, data), x, m, { arithmetic: scheme });
        what = `float64 (reference${scheme ? `, ${scheme.id} arithmetic` : ''})`;
      } else {
        const backend = backendFor(backendName);
        const status = await backend.status();
        if (!status.available)
          throw new UsageError(`backend ${backendName} is unavailable: ${status.reason ?? 'unknown reason'}`);
        const session = await backend.open(deviceIndex);
        try {
          const w = await session.load({ type: t.type, n: t.n, k: t.k, data, name: t.name });
          try {
            const r = await session.run(w, x, m, { path: pathChoice });
            y = r.y;
            what = `float32 (${backendName}, ${r.path}${r.detail ? `, ${r.detail}` : ''})`;
          } finally {
            w.dispose();
          }
        } finally {
          await session.close();
        }
      }
      await writeNamed('--out', out, async () => {
        await writeAll(target.handle, new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
        await target.commit();
      });
      ctx.stderr.write(`wrote ${out}: ${m}×${t.n} ${what}\n`);
      return 0;
    } finally {
      await target.discard();
      await file?.close();
    }
  },
};
