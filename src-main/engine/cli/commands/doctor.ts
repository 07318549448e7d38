import { doctor, formatDoctor } from '../../doctor';
import type { CliCommand } from '../framework';

export const doctorCommand: CliCommand = {
  name: 'doctor',
  summary: 'what this machine has for ROCm and CUDA, and how to fix what is missing',
  help: `quantscope doctor [--json]

Checks, for ROCm: /dev/kfd and the /dev/dri render nodes (present, read/write for you, the render and
video groups), the HIP runtime (libamdhip64) and hiprtc, and the devices HIP sees; for CUDA: the
NVIDIA device nodes, the driver library (libcuda.so.1), NVRTC and the devices. Each problem comes
with the command or package that fixes it.

Exit code: 0 when at least one GPU backend is ready, 1 when none is (the cpu backend always works).`,
  options: { json: { type: 'boolean' } },
  maxPositionals: 0,
  async run(ctx) {
    const r = doctor();
    ctx.stdout.write(ctx.values.json ? JSON.stringify(r, null, 2) + '\n' : formatDoctor(r));
    return r.ready.length > 0 ? 0 : 1;
  },
};
