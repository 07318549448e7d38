/**
 * `quantscope`: the engine's command line. Bundled into one file (dist/quantscope.cjs) that also
 * serves as the worker-thread script, so the GPU machine needs only that file and koffi.
 */
import { runWorkerIfRequested, setWorkerScript, shutdownPool } from '../workers';
import { ENGINE_WORKER_TASKS } from '../devices/host';
import { COMMANDS } from './commands';
import { UsageError, parseCommandArgs, type CliContext } from './framework';
import { APP_COMMIT, APP_VERSION } from '../version';
import { formatRuntimes, nodeLine, probeRuntimes } from '../doctor';
import { oneLine } from '../../../src-shared/contract';
import { termSafeLines } from './term';

function usage(): string {
  const w = COMMANDS.reduce((mx, c) => Math.max(mx, c.name.length), 0);
  return [
    `quantscope ${APP_VERSION} — verify and benchmark fused dequantize+matmul kernels on GGUF weights`,
    '',
    'usage: quantscope <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    "Run `quantscope <command> --help` for a command's options. Add --debug to see stack traces.",
    '',
  ].join('\n');
}

export async function main(
  argv: string[],
  io: Pick<CliContext, 'stdout' | 'stderr'> = process,
): Promise<number> {
  const debug = argv.includes('--debug');
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    // The first line is the bare version, for scripts; then what this build runs on.
    const lines = [APP_VERSION, `commit ${APP_COMMIT}`, nodeLine(), ...formatRuntimes(probeRuntimes())];
    io.stdout.write(lines.join('\n') + '\n');
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  try {
    if (!cmd) throw new UsageError(`unknown command '${name}' (run quantscope --help for the list)`);
    const { positionals, values } = parseCommandArgs(cmd, rest);
    if (values.help) {
      io.stdout.write(cmd.help.trimEnd() + '\n');
      return 0;
    }
    return await cmd.run({ positionals, values, stdout: io.stdout, stderr: io.stderr, debug });
  } catch (e) {
    io.stderr.write(`quantscope: error: ${termSafeLines(oneLine(e))}\n`);
    if (debug && e instanceof Error && e.stack) io.stderr.write(e.stack + '\n');
    return 2;
  }
}

const bundled = typeof __QS_BUNDLED__ !== 'undefined' && __QS_BUNDLED__;
if (bundled) {
  setWorkerScript(__filename);
  if (!runWorkerIfRequested(ENGINE_WORKER_TASKS)) {
    // `quantscope inspect big.gguf | head`: the reader went away; stop quietly, like other tools.
    for (const s of [process.stdout, process.stderr])
      s.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
        throw e;
      });
    main(process.argv.slice(2)).then(
      async (code) => {
        await shutdownPool();
        process.exitCode = code;
      },
      async (e) => {
        process.stderr.write(`quantscope: error: ${termSafeLines(oneLine(e))}\n`);
        await shutdownPool();
        process.exitCode = 2;
      },
    );
  }
}
