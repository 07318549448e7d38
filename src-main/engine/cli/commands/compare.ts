import { compareRecords, parseTolerance, type Comparison } from '../../records/compare';
import { COMPARISON_HEADLINE, thresholdsChanged } from '../../../../src-shared/comparison';
import { RecordStore, defaultRecordsDir } from '../../records/store';
import { fmtExp } from '../../report/report';
import { UsageError, stringOption, type CliCommand, type CliContext } from '../framework';
import { table } from '../table';
import { termSafe } from '../term';
import { checkOutputs, writeOutputAtomic } from '../../output-path';

export const compareCommand: CliCommand = {
  name: 'compare',
  summary: 'compare two run records: new failures, error changes, slowdowns beyond the noise',
  help: `quantscope compare <baseline> <candidate> [--speed-tolerance 5%] [--allow-different] [--json FILE]
                   [--force] [--records DIR]
  <baseline>, <candidate>: a record file, or a record id (or unique id prefix) in the records folder;
  latest is the newest record and latest~N the N-th before it (compare latest~1 latest: the last two).
  Per tensor and batch size: new failures, fixes, kernel error (NMSE against the declared arithmetic)
  and arithmetic error of both runs, the diagnosis of a failing side, and speed change judged against
  the runs' own spread (a change smaller than the larger of --speed-tolerance and either timing's
  spread is not counted). A changed diagnosis is shown, never counted.
  Both records must be of one kind: verify or check records compare per tensor, bench records per
  format, shape, m, protocol and path (correctness check and speed), selftest records per case.
  Both must be of the same work: the same weights and tensor selection (or cases), threshold, seed,
  activations and arithmetic; the device, path and timing may differ. Where thresholds differ, each
  row shows both.
  --speed-tolerance  slowdown that counts, as a percentage or fraction (default 5%)
  --allow-different  compare records that are not of the same work (an error otherwise): every
                     difference is named, there is no verdict, and the exit code follows the rows
  --json             write the comparison as JSON (checked before reading the records: never one of
                     them, a folder or a device; written through a temporary file)
  --force            let --json replace an existing model file
  --records          the records folder (default: $QS_RECORDS_DIR or ~/.config/quantscope/records)
Exit code: 0 nothing regressed; 1 a new failure, a result missing from the candidate, or a slowdown
beyond tolerance and spread; 2 bad input (unreadable record, different work without --allow-different).`,
  options: {
    'speed-tolerance': { type: 'string' },
    'allow-different': { type: 'boolean' },
    json: { type: 'string' },
    force: { type: 'boolean', short: 'f' },
    records: { type: 'string' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  async run(ctx) {
    const store = new RecordStore(stringOption(ctx.values, 'records') ?? defaultRecordsDir());
    const tolerance = toleranceOption(ctx.values);
    const files = ctx.positionals.map((ref) => store.locate(ref));
    const jsonPath = stringOption(ctx.values, 'json');
    const [jsonOut] = jsonPath
      ? await checkOutputs([{ option: '--json', path: jsonPath }], {
          inputs: files,
          force: Boolean(ctx.values.force),
        })
      : [];
    const [a, b] = files.map((f) => store.readFile(f));
    const cmp = compareRecords(a, b, tolerance);
    if (cmp.different && !ctx.values['allow-different'])
      throw new UsageError(
        `the records are not of the same work: ${cmp.different} (--allow-different compares them anyway)`,
      );
    if (jsonOut) await writeOutputAtomic(jsonOut, JSON.stringify(cmp, null, 1) + '\n');
    ctx.stdout.write(formatComparison(cmp));
    return cmp.regressed ? 1 : 0;
  },
};

/** --speed-tolerance (compare, verify --baseline): a percentage or fraction, 5% when absent. */
export function toleranceOption(values: CliContext['values']): number {
  const s = stringOption(values, 'speed-tolerance');
  if (s === undefined) return 0.05;
  try {
    return parseTolerance(s);
  } catch (e) {
    throw new UsageError(`--speed-tolerance: ${(e as Error).message}`);
  }
}

const pct = (r: number | null) => (r === null ? '—' : `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`);

export function formatComparison(c: Comparison): string {
  const head =
    `baseline  ${c.baseline.id}  ${c.baseline.createdAt}  ${c.baseline.device ?? '-'}  ${c.baseline.model ?? '-'}\n` +
    `candidate ${c.candidate.id}  ${c.candidate.createdAt}  ${c.candidate.device ?? '-'}  ${c.candidate.model ?? '-'}\n` +
    c.differences.map((d) => `not the same work: ${termSafe(d)}\n`).join('') +
    '\n';
  // both thresholds where they changed: they explain a new failure whose NMSE did not change
  const bars = thresholdsChanged(c.rows);
  const barCells = (r: Comparison['rows'][number]) =>
    bars ? [fmtExp(r.baseline?.threshold ?? undefined), fmtExp(r.candidate?.threshold ?? undefined)] : [];
  const body = table(
    [
      c.kind === 'bench' || c.kind === 'selftest' ? 'case' : 'tensor',
      'type',
      'm',
      'verdict',
      'baseline',
      'candidate',
      'NMSE was',
      'NMSE now',
      ...(bars ? ['bar was', 'bar now'] : []),
      'arith. was',
      'arith. now',
      'µs was',
      'µs now',
      'speed',
      'noise',
      'diagnosis',
    ],
    c.rows.map((r) => [
      termSafe(r.tensor),
      r.type,
      String(r.m),
      r.verdict.toUpperCase(),
      r.baseline?.status.toUpperCase() ?? '—',
      r.candidate?.status.toUpperCase() ?? '—',
      fmtExp(r.baseline?.nmse ?? undefined),
      fmtExp(r.candidate?.nmse ?? undefined),
      ...barCells(r),
      fmtExp(r.baseline?.arithmeticError ?? undefined),
      fmtExp(r.candidate?.arithmeticError ?? undefined),
      r.baseline?.us == null ? '—' : r.baseline.us.toFixed(2),
      r.candidate?.us == null ? '—' : r.candidate.us.toFixed(2),
      pct(r.speedRatio),
      r.noise === null ? '—' : `±${(r.noise * 100).toFixed(1)}%`,
      termSafe(r.diagnosisChange ?? r.candidate?.diagnosis?.class ?? r.baseline?.diagnosis?.class ?? '—'),
    ]),
    [
      false,
      false,
      true,
      false,
      false,
      false,
      true,
      true,
      ...(bars ? [true, true] : []),
      true,
      true,
      true,
      true,
      true,
      true,
      false,
    ],
  );
  // the sentence of every failing side's diagnosis, below the table
  const diagnoses: string[] = [];
  for (const r of c.rows)
    for (const [who, s] of [
      ['baseline', r.baseline],
      ['candidate', r.candidate],
    ] as const)
      if (s?.diagnosis)
        diagnoses.push(
          `diagnosis ${termSafe(r.tensor)} m=${r.m} ${who}: ${termSafe(s.diagnosis.class)}: ${termSafe(s.diagnosis.sentence)}\n`,
        );
  const n = c.counts;
  const tail =
    `\n${n['new-failure']} new failures, ${n.missing} missing, ${n.slower} slower, ${n['still-failing']} still failing, ` +
    `${n.fixed} fixed, ${n.faster} faster, ${n.same} unchanged, ${n.new} new (speed tolerance ${(c.tolerance * 100).toFixed(1)}%)\n` +
    (c.verdict === 'not-same-work'
      ? `${COMPARISON_HEADLINE[c.verdict]} (the rows alone: ${c.regressed ? 'a regression' : 'no regression'})\n`
      : `${COMPARISON_HEADLINE[c.verdict]}\n`);
  return head + body + (diagnoses.length ? '\n' + diagnoses.join('') : '') + tail;
}
