import { useDeferredValue, useMemo, useState } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  ComposedChart,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Scatter,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { useApp } from '../context';
import {
  bandwidthPoints,
  batchSeries,
  fusedVsUnfused,
  logAxis,
  maxOf,
  minOf,
  roofBandwidth,
  rooflinePoints,
  niceTicks,
  rotatedLabelHeight,
  rotatedLabelLeft,
  shortTensor,
  typeColor,
  tooltipStyle,
  axis,
} from '../lib/charts';
import { fmtNum, fmtRate, fmtUs } from '../lib/format';
import { isActive } from '../lib/runState';
import { useThrottled } from '../lib/useThrottled';
import { timedChoices } from '../lib/timing';
import { roofLines, withRunCopyBandwidth } from '../lib/roofs';
import type { DeviceSummary } from '../../../src-shared/contract';

/** the roofs' strokes: the first in the muted text colour, others in distinct hues */
const ROOF_COLORS = ['var(--muted)', '#b35900', '#7b4fd6', '#1a7f37'];

function ChartCard({
  title,
  sub,
  children,
  testId,
  tools,
}: {
  title: string;
  sub?: string;
  children: React.ReactNode;
  testId: string;
  tools?: React.ReactNode;
}) {
  return (
    <section className="card chart-card" data-testid={testId}>
      <div className="chart-head">
        <h2 className="card-title">{title}</h2>
        {tools}
      </div>
      {sub && <p className="hint">{sub}</p>}
      <div className="chart-box">{children}</div>
    </section>
  );
}

/** One line per format of a rate (GB/s or TFLOP/s) against batch size m. */
function BatchChart({
  series,
  unit,
  xs,
  logX,
  refY,
}: {
  series: ReturnType<typeof batchSeries>;
  unit: string;
  xs: number[];
  logX: boolean;
  /** a dashed reference line (the copy bandwidth), or null */
  refY: number | null;
}) {
  let yMax = refY ?? 0;
  for (const row of series.rows)
    for (const t of series.types) {
      const v = Number((row as Record<string, unknown>)[t]);
      if (Number.isFinite(v) && v > yMax) yMax = v;
    }
  const yTicks = niceTicks(yMax * 1.05);
  return (
    <ResponsiveContainer width="100%" height={260}>
      <LineChart data={series.rows} margin={{ top: 8, right: 24, left: 8, bottom: 8 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
        <XAxis
          dataKey="m"
          type="number"
          scale={logX ? 'log' : 'auto'}
          domain={['dataMin', 'dataMax']}
          ticks={xs}
          {...axis}
          label={{ value: 'batch m', position: 'insideBottomRight', offset: -4, fontSize: 11 }}
        />
        <YAxis
          {...axis}
          domain={yTicks.domain}
          ticks={yTicks.ticks}
          tickFormatter={(v: number) => fmtRate(v)}
          label={{ value: unit, angle: -90, position: 'insideLeft', fontSize: 11 }}
        />
        <Tooltip
          contentStyle={tooltipStyle}
          formatter={(v) => `${fmtRate(Number(v))} ${unit}`}
          labelFormatter={(m) => `m = ${m}`}
        />
        <Legend wrapperStyle={{ fontSize: 11 }} />
        {series.types.map((t) => (
          <Line
            key={t}
            dataKey={t}
            stroke={typeColor(t)}
            strokeWidth={2}
            dot={{ r: 3 }}
            isAnimationActive={false}
            connectNulls
          />
        ))}
        {refY && <ReferenceLine y={refY} stroke="var(--accent)" strokeDasharray="3 3" />}
      </LineChart>
    </ResponsiveContainer>
  );
}

function tickPow(v: number): string {
  if (v >= 1000 || v < 0.01) return v.toExponential(0);
  return String(Number(v.toPrecision(2)));
}

export function ChartsView() {
  const live = useApp((s) => ({
    results: s.results,
    backends: s.backends,
    request: s.run.request,
    setupBackend: s.config.backend,
    owner: s.resultsFor,
    setView: s.setView,
    selectResult: s.selectResult,
    active: isActive(s.run.status),
  }));
  // While a run streams, redraw the charts at most once a second, at low priority.
  const results = useDeferredValue(useThrottled(live.results, live.active ? 1000 : 0));
  const s = { ...live, results };
  /** Click a bar or point: open that result's detail. */
  const openResult = (id: string | undefined) => {
    if (!id) return;
    s.selectResult(id);
    s.setView('results');
  };
  const device: DeviceSummary | null = useMemo(() => {
    if (!s.request) return null;
    const be = s.backends.find((b) => b.backend === s.request!.backend);
    return withRunCopyBandwidth(
      be?.devices.find((d) => d.index === s.request!.deviceIndex) ?? null,
      s.results,
    );
  }, [s.backends, s.request, s.results]);
  const bw = useMemo(() => bandwidthPoints(s.results), [s.results]);
  const [bwPick, setBwPick] = useState<'auto' | 'all' | number>('auto');
  const gb = useMemo(() => batchSeries(s.results, 'gbps'), [s.results]);
  const tf = useMemo(() => batchSeries(s.results, 'tflops'), [s.results]);
  const pts = useMemo(() => rooflinePoints(s.results), [s.results]);
  const fused = useMemo(() => fusedVsUnfused(s.results), [s.results]);
  const roofBw = roofBandwidth(device);
  const roofs = useMemo(() => {
    if (!pts.length) return [];
    const ais = pts.map((p) => p.ai);
    return roofLines(s.results, device, roofBw.gbs, minOf(ais), maxOf(ais));
  }, [pts, s.results, roofBw.gbs, device]);
  const roof = useMemo(() => roofs.flatMap((r) => r.data), [roofs]);
  const xAxisLog = useMemo(() => logAxis([...pts.map((p) => p.ai), ...roof.map((r) => r.ai)]), [pts, roof]);
  const yAxisLog = useMemo(
    () => logAxis([...pts.map((p) => p.tflops), ...roof.map((r) => r.roof)]),
    [pts, roof],
  );
  const ptsByType = useMemo(() => {
    const m = new Map<string, typeof pts>();
    for (const p of pts) m.set(p.type, [...(m.get(p.type) ?? []), p]);
    return [...m.entries()];
  }, [pts]);

  if (!s.results.length) {
    return (
      <div className="empty" data-testid="charts-empty">
        <h2>No results to chart yet</h2>
        <p className="muted">
          Run some tensors with timing {timedChoices(s.setupBackend)}; bandwidth and roofline charts appear
          here.
        </p>
        <button className="btn" onClick={() => s.setView('model')}>
          Go to the model
        </button>
      </div>
    );
  }
  if (!bw.length) {
    return (
      <div className="empty" data-testid="charts-no-timing">
        <h2>No timing in these results</h2>
        <p className="muted">
          {s.request?.timing === 'none'
            ? `The run used timing protocol "none" (correctness only). Choose ${timedChoices(s.request.backend)} in Run setup and run again to see GB/s, TFLOP/s and the roofline.`
            : 'The backend returned no timing for these results.'}
        </p>
      </div>
    );
  }

  // Reference lines far above every bar (a slow cpu against its copy bandwidth) would flatten the
  // bars to nothing: those are named in the subtitle instead of drawn.
  // Many results: one batch size at a time (default the smallest, the bandwidth-bound case).
  const bwMs = [...new Set(bw.map((p) => p.m))].sort((a, b) => a - b);
  const bwSel = bwPick === 'auto' ? (bw.length <= 60 ? 'all' : bwMs[0]) : bwPick;
  const bwShown = bwSel === 'all' ? bw : bw.filter((p) => p.m === bwSel);
  const dataMax = maxOf(
    bwShown.map((p) => p.gbps),
    0,
  );
  const onScale = (v: number | null) => (v && v <= dataMax * 4 ? v : null);
  const peakAll = device?.peakBandwidthGBs ?? null;
  const copyAll = device?.copyBandwidthGBs ?? null;
  const peak = onScale(peakAll);
  const copy = onScale(copyAll);
  const offScale = [
    peakAll && !peak ? `peak ${fmtRate(peakAll)} GB/s` : '',
    copyAll && !copy ? `copy ${fmtRate(copyAll)} GB/s` : '',
  ].filter(Boolean);
  const bwMax = Math.max(dataMax, peak ?? 0, copy ?? 0) * 1.08;
  const bwTicks = niceTicks(bwMax);
  const bwLabels = bwShown.map((p) => shortTensor(p.label));
  const bwLabelH = rotatedLabelHeight(bwLabels);
  const bwLeft = rotatedLabelLeft(bwLabels[0]);
  const bwTypes = [...new Set(bwShown.map((p) => p.type))].sort();
  const bwSub = [
    `Weight bytes / median time${device ? ` on ${device.name}` : ''}.`,
    peak || copy
      ? `Lines: ${[peak ? 'peak' : '', copy ? 'measured copy' : ''].filter(Boolean).join(' and ')} bandwidth.`
      : '',
    offScale.length ? `Off scale (above every bar): ${offScale.join(', ')}.` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const fusedLabels = fused.map((f) => shortTensor(f.label));
  const fusedLabelH = rotatedLabelHeight(fusedLabels);
  const xs = [...new Set(s.results.map((r) => r.m))].sort((a, b) => a - b);
  const logX = xs.length > 1 && xs[xs.length - 1] / xs[0] >= 8;

  return (
    <div className="charts-view" data-testid="charts-view">
      {s.owner && (
        <p className="results-owner charts-owner" data-testid="charts-owner">
          Results of <span className="mono">{s.owner.modelName}</span> on {s.owner.device}
        </p>
      )}
      <ChartCard
        title="Bandwidth per tensor (GB/s)"
        sub={`${bwSub} Click a bar to open its result.`}
        testId="chart-bandwidth"
        tools={
          bwMs.length > 1 && (
            <label className="inline muted small">
              batch
              <select
                value={String(bwSel)}
                onChange={(e) => setBwPick(e.target.value === 'all' ? 'all' : Number(e.target.value))}
                data-testid="bandwidth-m"
              >
                <option value="all">all m</option>
                {bwMs.map((m) => (
                  <option key={m} value={m}>
                    m = {m}
                  </option>
                ))}
              </select>
            </label>
          )
        }
      >
        <ResponsiveContainer width="100%" height={230 + bwLabelH}>
          <BarChart data={bwShown} margin={{ top: 16, right: 24, left: bwLeft, bottom: 4 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
            <XAxis
              dataKey="label"
              tickFormatter={shortTensor}
              angle={-35}
              textAnchor="end"
              interval={0}
              {...axis}
              height={bwLabelH}
            />
            <YAxis
              tickFormatter={(v: number) => fmtRate(v)}
              domain={bwTicks.domain}
              ticks={bwTicks.ticks}
              unit=""
              {...axis}
              label={{ value: 'GB/s', angle: -90, position: 'insideLeft', fontSize: 11 }}
            />
            <Tooltip
              contentStyle={tooltipStyle}
              formatter={(v, _n, p) => [
                `${fmtRate(Number(v))} GB/s${(p.payload as { pctPeak: number | null }).pctPeak != null ? ` (${fmtNum((p.payload as { pctPeak: number }).pctPeak, 1)} % of peak)` : ''}`,
                (p.payload as { type: string }).type,
              ]}
            />
            <Bar
              dataKey="gbps"
              isAnimationActive={false}
              onClick={(d) => openResult((d as { payload?: { resultId?: string } })?.payload?.resultId)}
            >
              {bwShown.map((p) => (
                <Cell key={p.key} fill={typeColor(p.type)} cursor="pointer" />
              ))}
            </Bar>
            {peak && (
              <ReferenceLine
                y={peak}
                stroke="var(--fail)"
                strokeDasharray="6 3"
                label={{
                  value: `peak ${fmtNum(peak, 0)}`,
                  position: 'insideTopRight',
                  fontSize: 11,
                  fill: 'var(--fg)',
                }}
              />
            )}
            {copy && (
              <ReferenceLine
                y={copy}
                stroke="var(--accent)"
                strokeDasharray="3 3"
                label={{
                  value: `copy ${fmtNum(copy, 0)}`,
                  position: 'insideBottomRight',
                  fontSize: 11,
                  fill: 'var(--fg)',
                }}
              />
            )}
          </BarChart>
        </ResponsiveContainer>
        <div className="type-legend" data-testid="bandwidth-legend" aria-label="Bar colours: weight type">
          {bwTypes.map((t) => (
            <span key={t} className="type-legend-item">
              <span className="swatch" style={{ background: typeColor(t) }} /> {t}
            </span>
          ))}
        </div>
      </ChartCard>

      <div className="chart-row">
        <ChartCard
          title="GB/s vs batch size"
          sub="Median over each format's tensors."
          testId="chart-batch-gbps"
        >
          <BatchChart series={gb} unit="GB/s" xs={xs} logX={logX} refY={copy} />
        </ChartCard>
        <ChartCard title="TFLOP/s vs batch size" sub="2·m·n·k / median time." testId="chart-batch-tflops">
          <BatchChart series={tf} unit="TFLOP/s" xs={xs} logX={logX} refY={null} />
        </ChartCard>
      </div>

      <ChartCard
        title="Roofline"
        sub={
          roof.length
            ? `Achieved TFLOP/s vs arithmetic intensity (2·m·n·k / weight bytes), log–log. Memory roof: ${roofBw.label} bandwidth ${fmtNum(roofBw.gbs, 0)} GB/s; ${roofs.some((r) => r.peak !== null) ? `compute roofs: ${device?.computeRoofs?.source ?? 'estimated from the clock'}` : 'compute peak unknown for this device and arithmetic'}.`
            : 'Achieved TFLOP/s vs arithmetic intensity, log–log. No roof: the device reports no bandwidth.'
        }
        testId="chart-roofline"
      >
        <ResponsiveContainer width="100%" height={320}>
          <ComposedChart margin={{ top: 8, right: 24, left: 8, bottom: 16 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
            <XAxis
              dataKey="ai"
              type="number"
              scale="log"
              domain={xAxisLog.domain}
              ticks={xAxisLog.ticks}
              tickFormatter={tickPow}
              allowDuplicatedCategory={false}
              {...axis}
              label={{ value: 'FLOP / weight byte', position: 'insideBottomRight', offset: -8, fontSize: 11 }}
            />
            <YAxis
              type="number"
              scale="log"
              domain={yAxisLog.domain}
              ticks={yAxisLog.ticks}
              allowDataOverflow
              tickFormatter={tickPow}
              {...axis}
              label={{ value: 'TFLOP/s', angle: -90, position: 'insideLeft', fontSize: 11 }}
            />
            <Tooltip
              contentStyle={tooltipStyle}
              formatter={(v, n) => [
                / roof\b/.test(String(n)) ? `${fmtRate(Number(v))} (roof)` : `${fmtRate(Number(v))}`,
                String(n),
              ]}
            />
            <Legend wrapperStyle={{ fontSize: 11 }} />
            {roofs.map((r, i) => (
              <Line
                key={r.kind}
                data={r.data}
                dataKey="roof"
                name={r.label}
                stroke={ROOF_COLORS[i % ROOF_COLORS.length]}
                strokeWidth={2}
                strokeDasharray={i === 0 ? undefined : '6 3'}
                dot={false}
                isAnimationActive={false}
                legendType="plainline"
              />
            ))}
            {ptsByType.map(([t, list]) => (
              <Scatter
                key={t}
                name={t}
                data={list}
                cursor="pointer"
                onClick={(d) => openResult((d as { payload?: { resultId?: string } })?.payload?.resultId)}
                dataKey="tflops"
                fill={typeColor(t)}
                isAnimationActive={false}
              />
            ))}
          </ComposedChart>
        </ResponsiveContainer>
      </ChartCard>

      {fused.length > 0 ? (
        <ChartCard
          title="Fused vs unfused (median time)"
          sub="Lower is better; the label shows the fused speed-up."
          testId="chart-fused"
        >
          <ResponsiveContainer width="100%" height={210 + fusedLabelH}>
            <BarChart
              data={fused}
              margin={{ top: 8, right: 24, left: rotatedLabelLeft(fusedLabels[0]), bottom: 4 }}
            >
              <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
              <XAxis
                dataKey="label"
                tickFormatter={shortTensor}
                angle={-35}
                textAnchor="end"
                interval={0}
                height={fusedLabelH}
                {...axis}
              />
              <YAxis {...axis} label={{ value: 'µs', angle: -90, position: 'insideLeft', fontSize: 11 }} />
              <Tooltip contentStyle={tooltipStyle} formatter={(v, n) => [fmtUs(Number(v)), String(n)]} />
              <Legend wrapperStyle={{ fontSize: 11 }} />
              <Bar dataKey="fusedUs" name="fused" fill="var(--accent)" isAnimationActive={false} />
              <Bar dataKey="unfusedUs" name="unfused" fill="var(--muted)" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </ChartCard>
      ) : (
        <p className="hint" data-testid="fused-hint">
          Fused vs unfused: tick “Also time the unfused baseline” (GPU backends) to compare.
        </p>
      )}
    </div>
  );
}
