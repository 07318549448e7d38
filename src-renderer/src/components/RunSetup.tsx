import { useState } from 'react';
import { useApp } from '../context';
import { BATCH_CHOICES, MAX_REPEATS, batchChips, parseBatchSizes } from '../store';
import { isActive } from '../lib/runState';
import { fmtBytes, fmtNum } from '../lib/format';
import type { BackendKind, PathChoice, TimingChoice } from '../../../src-shared/contract';
import { ACTIVATION_KINDS, ARITHMETIC_SCHEMES } from '../../../src-shared/contract/types';
import { computeUnitsText, KEPT_FOR_APP_WHY } from '../../../src-shared/devices';
import { UserKernelsField } from './UserKernels';

const ACTIVATIONS: Record<(typeof ACTIVATION_KINDS)[number], { label: string; hint: string }> = {
  gaussian: { label: 'Gaussian', hint: 'independent normal(0, 1) values from the seed' },
  outliers: {
    label: 'Outliers',
    hint: 'Gaussian with one channel in 128 twenty times larger, like the outlier channels of LLM activations',
  },
  outliers100: { label: 'Outliers ×100', hint: 'Gaussian with one channel in 128 a hundred times larger' },
  embeddings: {
    label: 'Embeddings',
    hint: "rows of the model's own token_embd.weight, dequantized, for token ids drawn from the seed",
  },
};

const TIMING: { v: TimingChoice; label: string; hint: string }[] = [
  { v: 'none', label: 'None', hint: 'correctness only' },
  { v: 'hot', label: 'Hot', hint: 'one weight buffer reused (may sit in L2), like llama.cpp' },
  { v: 'cold', label: 'Cold', hint: 'several weight copies rotated: DRAM bandwidth' },
];
/** The cpu has one protocol: the same weights each repeat (no copies to rotate), wall-clock median. */
const CPU_TIMING: { v: TimingChoice; label: string; hint: string }[] = [
  { v: 'none', label: 'None', hint: 'correctness only' },
  {
    v: 'hot',
    label: 'Timed',
    hint: 'cpu: the same weights every repeat, median wall-clock time (no hot/cold distinction here)',
  },
];
const PATHS: { v: PathChoice; label: string; hint: string }[] = [
  {
    v: 'auto',
    label: 'Auto',
    hint: 'the fastest kernel of the device (int8 activations for quantized weights)',
  },
  { v: 'f32', label: 'F32', hint: 'float32 activations and FMA (small-m or tiled): exact to 1e-8' },
  { v: 'int8', label: 'Int8', hint: 'activations quantized to int8 per 32, like llama.cpp (judged at 5e-4)' },
  { v: 'mma', label: 'MMA', hint: 'matrix units, 16-bit float inputs, f32 accumulate' },
  { v: 'unfused', label: 'Unfused', hint: 'dequantize to f32, then matmul' },
];

export function RunSetup() {
  const s = useApp((s) => ({
    config: s.config,
    backends: s.backends,
    devicesError: s.devicesError,
    configError: s.configError,
    setConfig: s.setConfig,
    customBatchSizes: s.customBatchSizes,
    addBatchSizes: s.addBatchSizes,
    removeBatchSize: s.removeBatchSize,
    startRun: s.startRun,
    runStatus: s.run.status,
    selectedCount: s.model ? s.model.tensors.filter((t) => t.supported && s.selected.has(t.name)).length : 0,
    refreshDevices: s.refreshDevices,
  }));
  const [custom, setCustom] = useState('');
  const [customError, setCustomError] = useState<string | null>(null);
  const c = s.config;
  const backend = s.backends.find((b) => b.backend === c.backend);
  const device = backend?.devices.find((d) => d.index === c.deviceIndex) ?? null;
  const isGpu = c.backend !== 'cpu';
  const jobs = s.selectedCount * c.batchSizes.length;
  const timings = isGpu ? TIMING : CPU_TIMING;
  const timing: TimingChoice = !isGpu && c.timing === 'cold' ? 'hot' : c.timing;

  const toggleBatch = (m: number) => {
    const has = c.batchSizes.includes(m);
    s.setConfig({
      batchSizes: has ? c.batchSizes.filter((b) => b !== m) : [...c.batchSizes, m].sort((a, b) => a - b),
    });
  };
  const addCustom = () => {
    const r = parseBatchSizes(custom);
    if ('error' in r) {
      setCustomError(r.error);
      return;
    }
    setCustomError(null);
    setCustom('');
    s.addBatchSizes(r.sizes);
  };
  const fixed = BATCH_CHOICES as readonly number[];

  return (
    <aside className="card run-setup" data-testid="run-setup">
      <h2 className="card-title">Run setup</h2>

      <div className="field">
        <label>Backend</label>
        <div className="seg" role="radiogroup" aria-label="Backend">
          {(['cpu', 'cuda', 'hip'] as BackendKind[]).map((b) => {
            const be = s.backends.find((x) => x.backend === b);
            const ok = be?.available ?? false;
            return (
              <button
                key={b}
                role="radio"
                aria-checked={c.backend === b}
                className={c.backend === b ? 'on' : ''}
                disabled={!ok}
                title={ok ? `${be!.devices.length} device(s)` : (be?.reason ?? 'not detected')}
                data-testid={`backend-${b}`}
                onClick={() =>
                  s.setConfig({ backend: b, deviceIndex: be?.devices[0]?.index ?? 0, allDevices: false })
                }
              >
                {b.toUpperCase()}
              </button>
            );
          })}
        </div>
        {s.backends
          .filter((b) => !b.available)
          .map((b) => (
            <p
              key={b.backend}
              className="hint reason"
              title={b.reason}
              data-testid={`backend-reason-${b.backend}`}
            >
              {b.backend.toUpperCase()} unavailable: {b.reason ?? 'no reason given'}
            </p>
          ))}
        {s.devicesError && (
          <p className="error-text">
            {s.devicesError}{' '}
            <button className="btn link" onClick={() => s.refreshDevices()}>
              Retry
            </button>
          </p>
        )}
      </div>

      {backend && backend.devices.length > 0 && (
        <div className="field">
          <label htmlFor="device">Device</label>
          <select
            id="device"
            data-testid="device-select"
            value={c.allDevices && backend.devices.length > 1 ? 'all' : c.deviceIndex}
            onChange={(e) =>
              e.target.value === 'all'
                ? s.setConfig({ allDevices: true })
                : s.setConfig({ allDevices: false, deviceIndex: Number(e.target.value) })
            }
          >
            {backend.devices.map((d) => (
              <option key={d.index} value={d.index}>
                {d.index}: {d.name} ({d.arch})
              </option>
            ))}
            {backend.devices.length > 1 && (
              <option value="all">all {backend.devices.length} devices, side by side</option>
            )}
          </select>
          {device && (
            <p className="hint num" data-testid="device-facts">
              {fmtBytes(device.memoryTotal)} ·{' '}
              <span
                data-testid="device-threads"
                title={device.threadsKeptForApp ? KEPT_FOR_APP_WHY : undefined}
              >
                {computeUnitsText(c.backend, device.computeUnits, device.threadsKeptForApp)}
              </span>
              {device.peakBandwidthGBs ? ` · peak ${fmtNum(device.peakBandwidthGBs, 0)} GB/s` : ''}
              {device.copyBandwidthGBs ? ` · copy ${fmtNum(device.copyBandwidthGBs, 0)} GB/s` : ''}
              {device.peakTflops ? ` · ${fmtNum(device.peakTflops, 0)} TFLOP/s` : ''}
            </p>
          )}
        </div>
      )}

      <div className="field">
        <label>Batch sizes (m)</label>
        <div className="chips" data-testid="batch-chips">
          {batchChips(s.customBatchSizes, c.batchSizes).map((m) => {
            const chip = (
              <button
                key={m}
                className={`chip num${c.batchSizes.includes(m) ? ' on' : ''}`}
                aria-pressed={c.batchSizes.includes(m)}
                data-testid={`batch-${m}`}
                onClick={() => toggleBatch(m)}
              >
                {m}
              </button>
            );
            // A custom size keeps its chip when it is switched off; × removes it.
            return fixed.includes(m) ? (
              chip
            ) : (
              <span key={m} className="chip-custom">
                {chip}
                <button
                  className="chip-remove"
                  aria-label={`Remove batch size ${m}`}
                  title={`Remove batch size ${m}`}
                  data-testid={`batch-remove-${m}`}
                  onClick={() => s.removeBatchSize(m)}
                >
                  ×
                </button>
              </span>
            );
          })}
        </div>
        <div className="inline">
          <input
            value={custom}
            placeholder="custom, e.g. 7 32"
            onChange={(e) => setCustom(e.target.value)}
            onKeyDown={(e) => e.key === 'Enter' && addCustom()}
            data-testid="batch-custom"
            aria-label="Custom batch sizes"
          />
          <button className="btn small" onClick={addCustom} data-testid="batch-custom-add">
            Add
          </button>
        </div>
        {customError && <p className="error-text">{customError}</p>}
      </div>

      <div className="field">
        <label>Timing</label>
        <div className="seg" role="radiogroup" aria-label="Timing protocol">
          {timings.map((t) => (
            <button
              key={t.v}
              role="radio"
              aria-checked={timing === t.v}
              className={timing === t.v ? 'on' : ''}
              title={t.hint}
              data-testid={`timing-${t.v}`}
              onClick={() => s.setConfig({ timing: t.v })}
            >
              {t.label}
            </button>
          ))}
        </div>
        <p className="hint" data-testid="timing-hint">
          {timings.find((t) => t.v === timing)?.hint}
        </p>
        {timing !== 'none' && (
          <div className="inline repeats">
            <label htmlFor="repeats">Repeats</label>
            <input
              id="repeats"
              className="num"
              type="number"
              min={1}
              max={MAX_REPEATS}
              placeholder={isGpu ? '20' : '3'}
              value={c.repeats > 0 ? c.repeats : ''}
              data-testid="repeats"
              title="timed repeats per job after the warm-ups; the median, spread and count are shown"
              onChange={(e) => {
                const v = e.target.value.trim();
                s.setConfig({ repeats: v === '' ? 0 : Math.floor(Number(v)) });
              }}
            />
            <span className="hint">{c.repeats > 0 ? '' : `default ${isGpu ? 20 : 3}`}</span>
          </div>
        )}
      </div>

      <div className="field">
        <label>Kernel path</label>
        <div className="seg" role="radiogroup" aria-label="Kernel path">
          {PATHS.map((p) => (
            <button
              key={p.v}
              role="radio"
              aria-checked={c.path === p.v}
              className={c.path === p.v ? 'on' : ''}
              title={p.hint}
              data-testid={`path-${p.v}`}
              disabled={!isGpu && p.v !== 'auto'}
              onClick={() => s.setConfig({ path: p.v })}
            >
              {p.label}
            </button>
          ))}
        </div>
        {!isGpu && <p className="hint">The cpu backend has one path (cpu-f32).</p>}
      </div>

      <div className="field two">
        <div>
          <label htmlFor="seed">Seed</label>
          <input
            id="seed"
            className="num"
            type="number"
            min={0}
            value={c.seed}
            data-testid="seed"
            onChange={(e) => s.setConfig({ seed: Math.floor(Number(e.target.value)) })}
          />
        </div>
        <div>
          <label htmlFor="threshold">NMSE threshold</label>
          <input
            id="threshold"
            className="num"
            placeholder="path default"
            value={c.threshold}
            data-testid="threshold"
            onChange={(e) => s.setConfig({ threshold: e.target.value })}
          />
        </div>
      </div>

      <div className="field">
        <label>Activations</label>
        <div className="seg seg-wrap" role="radiogroup" aria-label="Activations">
          {ACTIVATION_KINDS.map((a) => (
            <button
              key={a}
              role="radio"
              aria-checked={c.activations === a}
              className={c.activations === a ? 'on' : ''}
              title={ACTIVATIONS[a].hint}
              data-testid={`activations-${a}`}
              onClick={() => s.setConfig({ activations: a })}
            >
              {ACTIVATIONS[a].label}
            </button>
          ))}
        </div>
        <p className="hint" data-testid="activations-hint">
          {ACTIVATIONS[(c.activations as keyof typeof ACTIVATIONS) ?? 'gaussian']?.hint ?? c.activations} ·
          seed {c.seed}
        </p>
      </div>

      <div className="field">
        <label htmlFor="arithmetic">Declared arithmetic</label>
        <select
          id="arithmetic"
          value={c.arithmetic}
          data-testid="arithmetic"
          onChange={(e) => s.setConfig({ arithmetic: e.target.value })}
        >
          <option value="">each path&apos;s own</option>
          {ARITHMETIC_SCHEMES.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
        <p className="hint">
          Every result is judged against the reference of this arithmetic (docs/arithmetic.md); a user kernel
          declares its own below.
        </p>
      </div>

      <UserKernelsField />

      <label className="check">
        <input
          type="checkbox"
          checked={c.compareUnfused}
          disabled={!isGpu}
          data-testid="compare-unfused"
          onChange={(e) => s.setConfig({ compareUnfused: e.target.checked })}
        />
        Also time the unfused baseline {isGpu ? '' : '(GPU backends)'}
      </label>

      {s.configError && (
        <p className="error-text" role="alert" data-testid="config-error">
          {s.configError}
        </p>
      )}
      <button
        className="btn primary wide"
        data-testid="run-setup-run"
        disabled={isActive(s.runStatus)}
        onClick={() => s.startRun()}
      >
        ▶ Run {jobs > 0 ? `${jobs} job${jobs > 1 ? 's' : ''}` : ''}
      </button>
      <p className="hint center">
        {s.selectedCount} tensor{s.selectedCount === 1 ? '' : 's'} × {c.batchSizes.length} batch size
        {c.batchSizes.length === 1 ? '' : 's'} · Ctrl+R
      </p>
    </aside>
  );
}
