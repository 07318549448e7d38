/** `quantscope selftest`: the backend's kernels against the float64 reference; non-zero exit on any failure. */
import { checkOutputs, writeOutputAtomic } from '../../output-path';
import { backendFor } from '../../backends';
import { selftest } from '../../selftest';
import {
  UsageError,
  choiceOption,
  formatsOption,
  intOption,
  stringOption,
  type CliCommand,
} from '../framework';
import { RECORD_HELP, RECORD_OPTIONS, recordStoreOption, saveRunRecord } from '../record-options';
import { buildSelftestRecord } from '../../records/build';
import { allDevicesPass, deviceAnalysisLines, deviceOption } from '../devices-output';
import { resolveDevices } from '../../devices/spec';
import { deviceEntry, forEachDevice } from '../../devices/run';
import { analyzeDevices } from '../../../../src-shared/devices';
import { writeLines } from '../table';

export const selftestCommand: CliCommand = {
  name: 'selftest',
  summary: "check a backend's kernels on random and adversarial weights against the reference",
  help: `quantscope selftest [--backend cuda|hip|cpu] [--device N|all|0,2,5] [--quick] [--seed N] [--formats q4_0,q4_k,...] [--json FILE]
                   [--records DIR] [--no-record]
  --backend   backend to test (default cuda)
  --device    device index (default 0); all: every device; a list (0,2,5; an index may repeat): one
              worker thread per entry, in parallel, lines prefixed by the device, a verdict per
              device and the outputs of identical cards compared bit for bit (cpu: all is device 0)
  --quick     fewer shapes and batch sizes
  --seed      random seed (default 1234)
  --formats   only these formats
  --json      also write every row as JSON to FILE (checked before the tests start; written through a
              temporary file renamed into place)
  --force     let --json replace an existing model file
${RECORD_HELP}
  The record keeps the backend, the device and every case (format, path, weights, m) with its
  verdict, NMSE, arithmetic error and diagnosis. Kernels built or launched with settings other than the
  defaults (QS_KERNEL_DEFINES, QS_GPU_TUNING, QS_MMA_I8_TILE, ...) are named after the device and in the
  record (device.kernelSettings).
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
    const deviceSpec = deviceOption(ctx.values);
    const seed = intOption(ctx.values, 'seed', 1234, 0, 2 ** 32 - 1);
    const fmts = stringOption(ctx.values, 'formats');
    const types = formatsOption(ctx.values);
    const jsonPath = stringOption(ctx.values, 'json');
    const jsonOut = jsonPath
      ? (await checkOutputs([{ option: '--json', path: jsonPath }], { force: Boolean(ctx.values.force) }))[0]
      : null;
    const records = recordStoreOption(ctx.values);
    const backend = backendFor(kind);
    const st = await backend.status();
    if (!st.available) throw new UsageError(`${kind} unavailable: ${st.reason ?? 'unknown reason'}`);
    // the record of this selftest: the request, then what ran
    const record = (
      ran: Pick<
        Parameters<typeof buildSelftestRecord>[0],
        'deviceIndex' | 'device' | 'devices' | 'rows' | 'status'
      >,
    ) =>
      buildSelftestRecord({
        backend: kind,
        quick: !!ctx.values.quick,
        seed,
        ...(fmts ? { formats: fmts.split(',').map((f) => f.trim()) } : {}),
        ...ran,
      });
    const t0 = performance.now();
    if (deviceSpec.kind === 'one') {
      const res = await selftest(backend, {
        deviceIndex: deviceSpec.index,
        quick: !!ctx.values.quick,
        seed,
        types,
        onLine: (s) => ctx.stdout.write(s + '\n'),
      });
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      ctx.stdout.write(`selftest ${kind}: ${res.passed} passed, ${res.failed} failed (${secs} s)\n`);
      if (jsonOut) await writeOutputAtomic(jsonOut, JSON.stringify(res, null, 1));
      await saveRunRecord(ctx, records, () =>
        record({ deviceIndex: deviceSpec.index, device: res.device, rows: res.rows, status: 'done' }),
      );
      return res.failed === 0 ? 0 : 1;
    }
    let devices: number[];
    try {
      devices = resolveDevices(deviceSpec, st.devices.length, kind);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    // every device runs the same cases (the same seed), so identical cards must write identical bits
    const outcomes = await forEachDevice(backend, devices, (b, index, slot) =>
      selftest(b, {
        deviceIndex: index,
        quick: !!ctx.values.quick,
        seed,
        types,
        onLine: (s) => ctx.stdout.write(`[slot ${slot} ${kind}:${index}] ${s}\n`),
      }),
    );
    const entries = outcomes.map((o) =>
      deviceEntry(
        o.slot,
        kind,
        o.index,
        st.devices[o.index] ?? null,
        o.ok ? 'done' : 'failed',
        o.ok ? undefined : o.error,
      ),
    );
    const rows = outcomes.flatMap((o) =>
      o.ok ? o.value.rows.map((r) => ({ ...r, slot: o.slot, deviceIndex: o.index })) : [],
    );
    const analysis = analyzeDevices(
      entries,
      rows.map((r) => ({
        slot: r.slot,
        tensor: `${r.format} ${r.n}x${r.k} ${r.weights} ${r.requested}`,
        m: r.m,
        status: r.result,
        outputHash: r.outputHash,
        timing: null,
      })),
    );
    writeLines(ctx.stdout, deviceAnalysisLines(analysis));
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const passed = rows.filter((r) => r.result === 'pass').length;
    ctx.stdout.write(
      `selftest ${kind} on devices ${devices.join(',')}: ${passed} passed, ${rows.length - passed} failed` +
        `${entries.some((e) => e.status === 'failed') ? ', a device failed' : ''} (${secs} s)\n`,
    );
    if (jsonOut)
      await writeOutputAtomic(
        jsonOut,
        JSON.stringify(
          { passed, failed: rows.length - passed, devices: entries, deviceAnalysis: analysis, rows },
          null,
          1,
        ),
      );
    await saveRunRecord(ctx, records, () =>
      record({
        deviceIndex: devices[0],
        device: outcomes.find((o) => o.ok)?.value.device ?? null,
        devices: entries,
        rows,
        status: entries.some((e) => e.status === 'failed') ? 'failed' : 'done',
      }),
    );
    return allDevicesPass(analysis) ? 0 : 1;
  },
};
