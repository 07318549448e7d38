import { GgufFile } from '../../gguf';
import { summarizeModel } from '../../model';
import { sampleModelPath } from '../../paths';
import { fmtBytes } from '../../report/report';
import type { CliCommand } from '../framework';
import { table } from '../table';

export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'show a GGUF file: header, metadata and tensors',
  help: `quantscope inspect [<file.gguf>] [--json]
  Reads only the header. Without a file, inspects the sample model.
  --json   print everything as JSON (metadata values summarised as shown)`,
  options: { json: { type: 'boolean' } },
  maxPositionals: 1,
  async run(ctx) {
    const p = ctx.positionals[0] ?? sampleModelPath();
    const t0 = performance.now();
    const file = await GgufFile.open(p);
    try {
      const s = summarizeModel(file, 'inspect', performance.now() - t0);
      if (ctx.values.json) {
        ctx.stdout.write(JSON.stringify(s, null, 2) + '\n');
        return 0;
      }
      const out: string[] = [];
      out.push(`${s.path}`);
      out.push(
        `GGUF v${s.version}, ${fmtBytes(s.fileSize)}, ${s.tensors.length} tensors, ${s.metadata.length} metadata entries, alignment ${s.alignment}`,
      );
      if (s.architecture || s.name)
        out.push(`model: ${s.name ?? '?'} (${s.architecture ?? 'unknown architecture'})`);
      const mix = Object.entries(s.typeBytes)
        .sort((a, b) => b[1] - a[1])
        .map(([t, b]) => `${t} ${fmtBytes(b)}`)
        .join(', ');
      out.push(`types: ${mix}`);
      for (const w of s.warnings) out.push(`warning: ${w}`);
      out.push('', 'metadata:');
      const keyW = Math.max(...s.metadata.map((m) => m.key.length), 3);
      for (const m of s.metadata) out.push(`  ${m.key.padEnd(keyW)}  ${m.type.padEnd(6)}  ${m.value}`);
      out.push('', 'tensors:');
      ctx.stdout.write(out.join('\n') + '\n');
      ctx.stdout.write(
        table(
          ['#', 'name', 'type', 'shape', 'bytes', 'offset', 'supported'],
          s.tensors.map((t) => [
            String(t.index),
            t.name,
            t.typeName,
            t.dims.join('×'),
            String(t.nbytes),
            String(t.offset),
            t.supported ? 'yes' : `no: ${t.unsupportedReason ?? t.typeName}`,
          ]),
          [true, false, false, false, true, true, false],
        ),
      );
      return 0;
    } finally {
      await file.close();
    }
  },
};
