import { RecordStore, defaultRecordsDir } from '../../records/store';
import { checkOutputs, writeOutputAtomic } from '../../output-path';
import { recordReport } from '../../report/record-report';
import { UsageError, reportFormatOf, stringOption, type CliCommand } from '../framework';
import { termSafe } from '../term';
import { oneLine } from '../../../../src-shared/contract';
import { table } from '../table';

export const recordsCommand: CliCommand = {
  name: 'records',
  summary: 'list the saved run records (newest first), or print one',
  help: `quantscope records [<id>] [--records DIR] [--json] [--report FILE.html|.md|.json]
  Without an id, lists every record: id, date, kind, model, device, verdict counts. With an id (or a
  unique prefix, or latest for the newest and latest~N for the N-th before it), prints that record
  as JSON. Damaged files are reported and skipped.
  --records  the records folder (default: $QS_RECORDS_DIR or ~/.config/quantscope/records)
  --json     the listing as JSON
  --report   with the id of a record: write its report instead: a verify or check record's
             correctness report (as verify --report writes it, from what the record keeps), a
             bench record's bench report (as bench --report); a selftest record has none
  --force    let --report replace an existing model file`,
  options: {
    records: { type: 'string' },
    json: { type: 'boolean' },
    report: { type: 'string' },
    force: { type: 'boolean', short: 'f' },
  },
  maxPositionals: 1,
  async run(ctx) {
    const store = new RecordStore(stringOption(ctx.values, 'records') ?? defaultRecordsDir());
    const id = ctx.positionals[0];
    const reportPath = stringOption(ctx.values, 'report');
    if (reportPath) {
      if (!id) throw new UsageError('--report needs the id of a record');
      const format = reportFormatOf(reportPath);
      const rec = store.load(id);
      let content: string;
      try {
        content = recordReport(rec, format).content;
      } catch (e) {
        throw new UsageError(`--report: ${oneLine(e)}`);
      }
      const [out] = await checkOutputs([{ option: '--report', path: reportPath }], {
        inputs: [store.locate(id)],
        force: Boolean(ctx.values.force),
      });
      await writeOutputAtomic(out, content);
      ctx.stderr.write(`report written to ${termSafe(out.path)}\n`);
      return 0;
    }
    if (id) {
      ctx.stdout.write(JSON.stringify(store.load(id), null, 1) + '\n');
      return 0;
    }
    const { records, skipped } = store.list();
    for (const s of skipped) ctx.stderr.write(`records: skipped ${s.file}: ${s.reason}\n`);
    if (ctx.values.json) {
      ctx.stdout.write(JSON.stringify({ dir: store.dir, records, skipped }, null, 1) + '\n');
      return 0;
    }
    if (records.length === 0) {
      ctx.stdout.write(`no records in ${store.dir}\n`);
      return 0;
    }
    ctx.stdout.write(
      table(
        ['id', 'date', 'kind', 'model', 'device', 'pass', 'fail', 'error', 'status'],
        records.map((r) => [
          r.id,
          r.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
          r.kind,
          r.model ?? '-',
          r.device ?? '-',
          String(r.counts.pass),
          String(r.counts.fail),
          String(r.counts.error),
          r.status,
        ]),
        [false, false, false, false, false, true, true, true, false],
      ),
    );
    ctx.stdout.write(`${records.length} records in ${store.dir}\n`);
    return 0;
  },
};
