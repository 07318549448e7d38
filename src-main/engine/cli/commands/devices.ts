import { allStatuses } from '../../backends';
import { measureCopyBandwidth } from '../../backends/cpu';
import { fmtBytes, fmtNum } from '../../report/report';
import type { CliCommand } from '../framework';
import { computeUnitsText } from '../../../../src-shared/devices';

export const devicesCommand: CliCommand = {
  name: 'devices',
  summary: 'list backends and devices; for each one missing, why',
  help: `quantscope devices [--json]`,
  options: { json: { type: 'boolean' } },
  maxPositionals: 0,
  async run(ctx) {
    measureCopyBandwidth(); // the cpu's copy bandwidth is measured on demand; here it is shown
    const statuses = await allStatuses();
    if (ctx.values.json) {
      ctx.stdout.write(JSON.stringify(statuses, null, 2) + '\n');
      return 0;
    }
    for (const s of statuses) {
      if (!s.available) {
        ctx.stdout.write(`${s.backend}: unavailable: ${s.reason ?? 'unknown reason'}\n`);
        continue;
      }
      ctx.stdout.write(`${s.backend}: ${s.devices.length} device${s.devices.length === 1 ? '' : 's'}\n`);
      for (const d of s.devices) {
        const bw = d.peakBandwidthGBs ? `, peak ${fmtNum(d.peakBandwidthGBs, 0)} GB/s` : '';
        const copy = d.copyBandwidthGBs ? `, copy ${fmtNum(d.copyBandwidthGBs, 0)} GB/s` : '';
        ctx.stdout.write(
          `  ${s.backend}:${d.index}  ${d.name}  ${d.arch}, ${computeUnitsText(s.backend, d.computeUnits)}, warp ${d.warpSize}, ` +
            `${fmtBytes(d.memoryFree)} free of ${fmtBytes(d.memoryTotal)}${bw}${copy}\n`,
        );
      }
    }
    return 0;
  },
};
