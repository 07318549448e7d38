import { GgufFile } from '../../gguf';
import { planOutput, writeAll, writeNamed } from '../../output-path';
import { codecFor } from '../../formats';
import { UsageError, stringOption, type CliCommand } from '../framework';
import { Progress } from '../table';
import { termSafe } from '../term';

export const dequantCommand: CliCommand = {
  name: 'dequant',
  summary: 'dequantize one tensor to raw float32',
  help: `quantscope dequant <file.gguf> <tensor> --out <path> [--force]
  Writes the tensor dequantized exactly as llama.cpp does: raw little-endian float32, row-major [n][k].
  The output is checked before any work (never the input, never a folder or device) and written
  through a temporary file renamed into place.
  --force  replace an existing model file (.gguf or GGUF content) named by --out`,
  options: { out: { type: 'string', short: 'o' }, force: { type: 'boolean', short: 'f' } },
  minPositionals: 2,
  maxPositionals: 2,
  async run(ctx) {
    const [p, name] = ctx.positionals;
    const out = stringOption(ctx.values, 'out');
    if (!out) throw new UsageError('dequant: --out <path> is required');
    const target = await planOutput(
      { option: '--out', path: out },
      { inputs: [p], force: Boolean(ctx.values.force) },
    );
    const progress = new Progress(ctx.stderr);
    let file: GgufFile | null = null;
    try {
      file = await GgufFile.open(p);
      const t = file.tensor(name);
      if (!t.supported)
        throw new UsageError(
          `${termSafe(t.name)}: ${t.unsupportedReason ?? `${t.typeName} is not supported`}`,
        );
      const codec = codecFor(t.type);
      const rowBytes = (t.k / codec.blockElems) * codec.blockBytes;
      // stream in row blocks of ~32 MB of weights so any tensor size fits in memory
      const rowsPerChunk = Math.max(1, Math.floor((32 << 20) / rowBytes));
      const fh = target.handle;
      try {
        for (let r0 = 0; r0 < t.n; r0 += rowsPerChunk) {
          const rows = Math.min(rowsPerChunk, t.n - r0);
          const src = await file.readRows(t, r0, rows);
          const dst = new Float32Array(rows * t.k);
          for (let r = 0; r < rows; r++) codec.dequantizeRow(src, r * rowBytes, t.k, dst, r * t.k);
          await writeNamed('--out', out, () =>
            writeAll(fh, new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength)),
          );
          progress.update(`dequant ${t.name}: ${Math.round((100 * (r0 + rows)) / t.n)}%`);
        }
        await writeNamed('--out', out, () => target.commit());
      } finally {
        progress.done();
      }
      ctx.stderr.write(`wrote ${termSafe(out)}: ${t.n}×${t.k} float32 (${t.n * t.k * 4} bytes)\n`);
      return 0;
    } finally {
      await target.discard();
      await file?.close();
    }
  },
};
