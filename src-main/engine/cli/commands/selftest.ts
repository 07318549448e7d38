/** `quantscope selftest`: the backend's kernels against the float64 reference; non-zero exit on any failure. */
import { checkOutputs, writeOutputAtomic } from '../../output-path';
import { backendFor } from '../../backends';
import { selftest } from '../../selftest';
import { typeByName } from '../../ggml-types';
import { UsageError, choiceOption, intOption, stringOption, type CliCommand } from '../framework';
import { RECORD_HELP, RECORD_OPTIONS, recordStoreOption, saveRunRecord } from '../record-options';
import { buildSelftestRecord } from '../../records/build';

export const selftestCommand: CliCommand = {
  name: 'selftest',
  summary: "check a backend's kernels on random and adversarial weights against the reference",
  help: `quantscope selftest [--backend cuda|hip|cpu] [--device N] [--quick] [--seed N] [--formats q4_0,q4_k,...] [--json FILE]
                   [--records DIR] [--no-record]
  --backend   backend to test (default cuda)
  --device    device index (default 0)
  --quick     fewer shapes and batch sizes
  --seed      random seed (default 1234)
  --formats   only these formats
  --json      also write every row as JSON to FILE (checked before the tests start; written through a
              temporary file renamed into place)
  --force     let --json replace an existing model file
${RECORD_HELP}
  The record keeps the backend, the device and every case (format, path, weights, m) with its
  verdict, NMSE, arithmetic error and diagnosis.
Exits 0 when every case passes, 1 when any fails or errors, 2 on bad usage or an unavailable backend.`,
  options: {
    backend: { type: 'string' },
    device: { type: 'string' },
    quick: { type: 'boolean' },
    seed: { type: 'string' },
    formats: { type: 'string' },
    json: { type: 'string' },
    force: { type: 'boolean', short: 'f' },
    ...RECORD_OPTIONS,
  },
  maxPositionals: 0,
  async run(ctx) {
    const kind = choiceOption(ctx.values, 'backend', ['cuda', 'hip', 'cpu'] as const, 'cuda');
    const deviceIndex = intOption(ctx.values, 'device', 0, 0, 1024);
    const seed = intOption(ctx.values, 'seed', 1234, 0, 2 ** 32 - 1);
    const fmts = stringOption(ctx.values, 'formats');
    const types = fmts?.split(',').map((f) => {
      const t = typeByName(f.trim());
      if (!t || !t.supported) throw new UsageError(`--formats: '${f}' is not a supported format`);
      return t.id;
    });
    const jsonPath = stringOption(ctx.values, 'json');
    const jsonOut = jsonPath
      ? (await checkOutputs([{ option: '--json', path: jsonPath }], { force: Boolean(ctx.values.force) }))[0]
      : null;
    const records = recordStoreOption(ctx.values);
    const backend = backendFor(kind);
    const st = await backend.status();
    if (!st.available) throw new UsageError(`${kind} unavailable: ${st.reason ?? 'unknown reason'}`);
    const t0 = performance.now();
    const res = await selftest(backend, {
      deviceIndex,
      quick: !!ctx.values.quick,
      seed,
      types,
      onLine: (s) => ctx.stdout.write(s + '\n'),
    });
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    ctx.stdout.write(`selftest ${kind}: ${res.passed} passed, ${res.failed} failed (${secs} s)\n`);
    if (jsonOut) await writeOutputAtomic(jsonOut, JSON.stringify(res, null, 1));
    await saveRunRecord(ctx, records, () =>
      buildSelftestRecord({
        backend: kind,
        deviceIndex,
        quick: !!ctx.values.quick,
        seed,
        ...(fmts ? { formats: fmts.split(',').map((f) => f.trim()) } : {}),
        device: res.device,
        rows: res.rows,
        status: 'done',
      }),
    );
    return res.failed === 0 ? 0 : 1;
  },
};
