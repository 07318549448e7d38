import type { CliCommand } from '../framework';
import { inspectCommand } from './inspect';
import { dequantCommand } from './dequant';
import { matmulCommand } from './matmul';
import { verifyCommand } from './verify';
import { checkCommand } from './check';
import { makeModelCommand } from './make-model';
import { devicesCommand } from './devices';
import { doctorCommand } from './doctor';
import { selftestCommand } from './selftest';
import { benchCommand } from './bench';
import { serveCommand } from './serve';
import { compareCommand } from './compare';
import { recordsCommand } from './records';

/** Every CLI command, in the order `quantscope --help` lists them. */
export const COMMANDS: CliCommand[] = [
  inspectCommand,
  dequantCommand,
  matmulCommand,
  verifyCommand,
  checkCommand,
  makeModelCommand,
  devicesCommand,
  doctorCommand,
  selftestCommand,
  benchCommand,
  serveCommand,
  recordsCommand,
  compareCommand,
];
