import path from 'node:path';
import { GgufFile } from '../../gguf';
import { summarizeModel, tensorSummary } from '../../model';
import { sampleModelPath } from '../../paths';
import { fmtBytes } from '../../report/report';
import { writeJson } from '../../json-stream';
import type { CliCommand } from '../framework';
import { writeLines, writeTable } from '../table';
import { termSafe } from '../term';
import { SCAN_ON_OPEN_BYTES, nonFiniteText, scanBytes, scanModelScales } from '../../scales';

export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'show a GGUF file: header, metadata and tensors',
  help: `quantscope inspect [<file.gguf>] [--json] [--scan-scales]
  Any file of a split model (name-00001-of-00003.gguf ...) shows the whole model, with each tensor's file.
  Reads the header, and the tensor data to count blocks whose scales are NaN or infinite when it is
  at most ${SCAN_ON_OPEN_BYTES / 2 ** 20} MiB (those tensors print "non-finite scales: N blocks"). Without a
  file, inspects the sample model.
  Text from the file is shown with control and bidi characters escaped (\\x1b, \\u202e).
  --json   print everything as JSON (metadata values summarised as shown), written as it is made;
           each tensor's nonFiniteBlocks is a count, or null where the scales were not scanned
  --scan-scales  read all tensor data to count non-finite scales, whatever the model's size`,
  options: { json: { type: 'boolean' }, 'scan-scales': { type: 'boolean' } },
  maxPositionals: 1,
  async run(ctx) {
    const p = ctx.positionals[0] ?? sampleModelPath();
    const t0 = performance.now();
    const file = await GgufFile.open(p);
    try {
      const openMs = performance.now() - t0;
      const split = file.shards.length > 1;
      const scan = await scanModelScales(file, ctx.values['scan-scales'] ? Infinity : SCAN_ON_OPEN_BYTES);
      const nonFinite = (i: number, supported: boolean) => (supported && scan ? (scan.get(i) ?? 0) : null);
      if (ctx.values.json) {
        // The tensor list is produced while it is written: a million tensors never exist as
        // summaries and one string at the same time.
        const s = summarizeModel(file, 'inspect', openMs, { tensors: false });
        const tensors = file.header.tensors;
        for (const t of tensors) {
          const c = nonFinite(t.index, t.supported);
          if (c) s.warnings.push(nonFiniteText(t.name, c));
        }
        const lazy = {
          *[Symbol.iterator]() {
            for (const t of tensors) {
              const ts = tensorSummary(t, split);
              ts.nonFiniteBlocks = nonFinite(t.index, t.supported);
              yield ts;
            }
          },
        };
        await writeJson(ctx.stdout, { ...s, tensors: lazy });
        return 0;
      }
      const s = summarizeModel(file, 'inspect', openMs, { tensors: false });
      const out: string[] = [];
      out.push(termSafe(s.path));
      if (split)
        out.push(
          `split model of ${file.shards.length} files: ${file.shards
            .map(
              (f) =>
                `${termSafe(path.basename(f.path))} (${fmtBytes(f.header.fileSize)}, ${f.header.tensors.length} tensors)`,
            )
            .join(', ')}`,
        );
      out.push(
        `GGUF v${s.version}, ${fmtBytes(s.fileSize)}, ${file.header.tensors.length} tensors, ${s.metadata.length} metadata entries, alignment ${s.alignment}`,
      );
      // file-provided strings, shortened as the metadata table shortens them
      const clip = (v: string) => (v.length > 80 ? v.slice(0, 77) + '...' : v);
      if (s.architecture || s.name)
        out.push(
          termSafe(`model: ${clip(s.name ?? '?')} (${clip(s.architecture ?? 'unknown architecture')})`),
        );
      const mix = Object.entries(s.typeBytes)
        .sort((a, b) => b[1] - a[1])
        .map(([t, b]) => `${t} ${fmtBytes(b)}`)
        .join(', ');
      out.push(termSafe(`types: ${mix}`));
      for (const w of s.warnings) out.push(`warning: ${termSafe(w)}`);
      if (!scan)
        out.push(
          `scales: not scanned (${fmtBytes(scanBytes(file))} of tensor data; --scan-scales reads it all, and verify scans each tensor it runs)`,
        );
      else {
        let bad = 0;
        for (const c of scan.values()) if (c > 0) bad++;
        out.push(bad === 0 ? 'scales: all finite' : `scales: ${bad} tensors with non-finite scales`);
      }
      out.push('', 'metadata:');
      const keys = s.metadata.map((m) => termSafe(m.key));
      let keyW = 3;
      for (const k of keys) keyW = Math.max(keyW, k.length);
      s.metadata.forEach((m, i) =>
        out.push(`  ${keys[i].padEnd(keyW)}  ${termSafe(m.type).padEnd(6)}  ${termSafe(m.value)}`),
      );
      out.push('', 'tensors:');
      writeLines(ctx.stdout, out);
      const tensors = file.header.tensors;
      writeTable(
        ctx.stdout,
        // a split model's tensors name their file (from 1, as in the file names)
        ['#', 'name', 'type', 'shape', 'bytes', ...(split ? ['file'] : []), 'offset', 'supported'],
        function* () {
          for (const t of tensors)
            yield [
              String(t.index),
              t.name,
              t.typeName,
              t.dims.join('×'),
              String(t.nbytes),
              ...(split ? [String(t.shard + 1)] : []),
              String(t.offset),
              !t.supported
                ? `no: ${t.unsupportedReason ?? t.typeName}`
                : nonFinite(t.index, true)
                  ? `yes; non-finite scales: ${nonFinite(t.index, true)} blocks`
                  : 'yes',
            ];
        },
        [true, false, false, false, true, ...(split ? [true] : []), true, false],
      );
      return 0;
    } finally {
      await file.close();
    }
  },
};
