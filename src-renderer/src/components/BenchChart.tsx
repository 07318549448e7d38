import { useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { PEER_SERIES, benchChart, peerSourceLine, timeTick } from '../../../src-shared/bench-chart';
import { axis, rotatedLabelHeight, rotatedLabelLeft, tooltipStyle } from '../lib/charts';
import { fmtUs } from '../lib/format';
import type { BenchRecordData } from '../../../src-shared/contract';

/** ours in the accent and distinct hues; the peer's in the muted colour, as a baseline */
const OURS_COLORS = ['var(--accent)', '#7b4fd6', '#1a7f37', '#b35900', '#0e7490', '#be185d'];
const PEER_COLOR = 'var(--muted)';

/**
 * A bench record's median time per format and batch size, on a log scale, beside the peer's time
 * for the same case where the record holds it; the legend names the peer and the caption its source
 * (src-shared/bench-chart.ts, the same figures and line as the bench report).
 */
export function BenchChart({ bench }: { bench: BenchRecordData }) {
  const chart = useMemo(() => benchChart(bench), [bench]);
  const data = useMemo(() => chart.groups.map((g) => ({ label: g.label, ...g.values })), [chart]);
  if (chart.groups.length === 0) return null;
  const color = (key: string, i: number) =>
    key === PEER_SERIES ? PEER_COLOR : OURS_COLORS[i % OURS_COLORS.length];
  const labels = chart.groups.map((g) => g.label);
  const labelH = rotatedLabelHeight(labels);
  return (
    <section className="card chart-card bench-chart" data-testid="bench-chart">
      <div className="chart-head">
        <h2 className="card-title">Median time per format and batch size (log scale)</h2>
      </div>
      <p className="hint">
        Lower is better.
        {chart.peer
          ? ' The peer’s times are its own benchmark’s, which repeats one weight buffer: compare them with the hot protocol.'
          : ''}
      </p>
      <div className="chart-box">
        <ResponsiveContainer width="100%" height={260 + labelH}>
          <BarChart
            data={data}
            margin={{ top: 8, right: 24, left: rotatedLabelLeft(labels[0]), bottom: 4 }}
            barGap={1}
          >
            <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
            <XAxis dataKey="label" angle={-35} textAnchor="end" interval={0} height={labelH} {...axis} />
            <YAxis
              type="number"
              scale="log"
              domain={chart.axis.domain}
              ticks={chart.axis.ticks}
              allowDataOverflow
              tickFormatter={timeTick}
              {...axis}
            />
            <Tooltip contentStyle={tooltipStyle} formatter={(v, name) => [fmtUs(Number(v)), String(name)]} />
            {chart.series.map((s, i) => (
              <Bar
                key={s.key}
                dataKey={s.key}
                name={s.label}
                fill={color(s.key, i)}
                maxBarSize={28}
                isAnimationActive={false}
              />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <div className="type-legend" data-testid="bench-chart-legend" aria-label="Bar colours: whose time">
        {chart.series.map((s, i) => (
          <span
            key={s.key}
            className="type-legend-item"
            data-testid={s.peer ? 'bench-chart-peer' : 'bench-chart-ours'}
          >
            <span className="swatch" style={{ background: color(s.key, i) }} /> {s.label}
          </span>
        ))}
      </div>
      {chart.peer ? (
        <p className="hint" data-testid="bench-chart-peer-source">
          Peer: {peerSourceLine(chart.peer)}
        </p>
      ) : (
        <p className="hint" data-testid="bench-chart-no-peer">
          {bench.peer
            ? `No peer times for these shapes (${bench.peer.label} has none).`
            : 'No peer times in this record: no --peer file, and no built-in figures for this GPU.'}
        </p>
      )}
    </section>
  );
}
