import { useMemo } from 'react';
import type { TensorResult } from '../../../src-shared/contract';
import type { DeviceRunEntry } from '../../../src-shared/devices';
import { deviceAnalysisOf } from '../lib/devices';
import '../devices.css';

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);

/**
 * A run over several devices side by side: a verdict per device, speed per device against the
 * fastest identical card (and the spread between them), and the jobs whose outputs differ bitwise
 * from the twins'. Renders nothing for a run on one device.
 */
export function DevicesPanel({
  results,
  devices,
}: {
  results: readonly TensorResult[];
  devices?: readonly DeviceRunEntry[];
}) {
  const a = useMemo(() => deviceAnalysisOf(results, devices), [results, devices]);
  if (!a) return null;
  return (
    <div className="card devices-card" data-testid="devices-panel">
      <h2 className="card-title">Devices</h2>
      <table className="devices-table" data-testid="devices-table">
        <thead>
          <tr>
            <th>slot</th>
            <th>device</th>
            <th>verdict</th>
            <th className="num">pass</th>
            <th className="num">fail</th>
            <th className="num">error</th>
            <th className="num" title="sum of median times over the jobs every identical card timed">
              µs
            </th>
            <th className="num">vs fastest twin</th>
            <th className="num">differs from twins</th>
          </tr>
        </thead>
        <tbody>
          {a.devices.map((d) => (
            <tr key={d.slot} className={d.verdict} data-testid={`device-row-${d.slot}`}>
              <td className="num">{d.slot}</td>
              <td className="mono">{d.label}</td>
              <td className={d.verdict === 'pass' ? 'pass-text' : 'fail-text'} title={d.deviceError}>
                {d.deviceError ? `ERROR: ${d.deviceError}` : d.verdict.toUpperCase()}
              </td>
              <td className="num">{d.pass}</td>
              <td className="num">{d.fail}</td>
              <td className="num">{d.error}</td>
              <td className="num">{d.totalUs === null ? '—' : d.totalUs.toFixed(1)}</td>
              <td className="num">{d.vsFastest === null ? '—' : `${d.vsFastest.toFixed(3)}×`}</td>
              <td className={d.differs > 0 ? 'num fail-text' : 'num'}>{d.differs}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ul>
        {a.groups.map((g) => (
          <li key={g.key}>
            {g.key}: slots {g.slots.join(', ')}; speed spread{' '}
            {g.slots.length < 2 ? 'n/a (one device)' : pct(g.spread)}
          </li>
        ))}
      </ul>
      <h3 className="card-title">Differs from twins</h3>
      {a.differences.length === 0 ? (
        <p className="muted" data-testid="twins-identical">
          None: identical cards wrote identical bits.
        </p>
      ) : (
        <ul data-testid="twins-differ">
          {a.differences.map((x) => (
            <li key={`${x.tensor}:${x.m}:${x.slot}`}>
              <span className="mono">{x.tensor}</span> m={x.m}: slot {x.slot} (index {x.index}) wrote{' '}
              <span className="mono">{x.hash.slice(0, 12)}</span>
              {x.majorityHash ? (
                <>
                  , its twins (slots {x.agreeing.join(', ')}){' '}
                  <span className="mono">{x.majorityHash.slice(0, 12)}</span>
                </>
              ) : (
                ', no majority among its twins'
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
