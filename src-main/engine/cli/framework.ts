/** The CLI's small command framework on node:util parseArgs (no dependency needed for this). */
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { distance } from 'fastest-levenshtein';
import { oneLine } from '../../../src-shared/contract';
import { SUPPORTED_TYPES, typeByName } from '../ggml-types';

/** Bad input from the user: exit code 2, one line. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CliContext {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  debug: boolean;
}

export interface CliCommand {
  name: string;
  /** one line for the command list */
  summary: string;
  /** usage line(s) and option descriptions, shown by `quantscope <cmd> --help` */
  help: string;
  options: OptionSpec;
  minPositionals?: number;
  maxPositionals?: number;
  /** added to the error for an argument beyond maxPositionals: where such a value belongs */
  positionalHint?: string;
  run(ctx: CliContext): Promise<number>;
}

export function parseCommandArgs(
  cmd: CliCommand,
  argv: string[],
): { positionals: string[]; values: CliContext['values'] } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' }, debug: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (e) {
    // an option followed by something that starts with '-': a missing value, or a negative number
    const amb = /Option '(-[^' ]+)' argument is ambiguous/.exec(oneLine(e));
    // the last place the option stands alone (parseArgs stops at the first bad one; a grouped short
    // flag such as -ft is not found, and keeps parseArgs' own message)
    const at = amb ? argv.lastIndexOf(amb[1]) : -1;
    if (amb && at >= 0 && at + 1 < argv.length) {
      const opt = amb[1];
      const next = argv[at + 1];
      const joined = opt.startsWith('--') ? `${opt}=${next}` : `${opt}${next}`;
      throw new UsageError(
        `${cmd.name}: ${opt} needs a value, and '${next}' looks like an option (for a value that starts with '-', write ${joined})`,
      );
    }
    // parseArgs messages are long and multi-line; keep the first sentence.
    const msg = oneLine(e).replace(/\. To specify .*$/, '');
    const unknown = /^Unknown option '--([^' =]+)'/.exec(msg);
    const hint = unknown ? suggestOption(cmd, unknown[1]) : undefined;
    throw new UsageError(`${cmd.name}: ${msg}${hint ? ` (did you mean --${hint}?)` : ''}`);
  }
  const { positionals, values, tokens } = parsed;
  if (!values.help) {
    // parseArgs keeps the last of a single-value option given twice (--batch 1 --batch 4): which
    // one was meant is the user's to say. Options declared `multiple` repeat by design.
    const seen = new Set<string>();
    for (const t of tokens) {
      if (t.kind !== 'option') continue;
      const spec = cmd.options[t.name];
      if (spec?.type !== 'string' || spec.multiple) continue;
      if (seen.has(t.name))
        throw new UsageError(`${cmd.name}: --${t.name} is given more than once; give it once`);
      seen.add(t.name);
    }
    if (cmd.minPositionals !== undefined && positionals.length < cmd.minPositionals)
      throw new UsageError(`${cmd.name}: missing argument (usage: ${firstLine(cmd.help)})`);
    if (cmd.maxPositionals !== undefined && positionals.length > cmd.maxPositionals)
      throw new UsageError(
        `${cmd.name}: unexpected argument '${positionals[cmd.maxPositionals]}'` +
          (cmd.positionalHint ? ` (${cmd.positionalHint})` : ''),
      );
  }
  return { positionals, values: values as CliContext['values'] };
}

/** The same setting under the name another command gives it: the batch sizes are `--batch` to verify
 * and `--m` to bench, check and matmul; the quant types are `--formats` to bench and selftest and
 * `--types` to make-model. */
const OTHER_NAMES: Record<string, string[]> = {
  m: ['batch'],
  batch: ['m'],
  formats: ['types'],
  types: ['formats'],
};

/** The option of this command a mistyped or borrowed name most likely meant: another command's name
 * for the same setting, else the closest name at most a third of its length (rounded up) away in
 * single-letter edits; a name under three letters is too short to guess from. */
function suggestOption(cmd: CliCommand, given: string): string | undefined {
  const names = Object.keys(cmd.options);
  const other = OTHER_NAMES[given]?.find((n) => names.includes(n));
  if (other) return other;
  if (given.length < 3) return undefined;
  let best: string | undefined;
  let bestDist = Math.ceil(given.length / 3) + 1;
  for (const n of names) {
    const d = distance(given, n);
    if (d < bestDist) [best, bestDist] = [n, d];
  }
  return best;
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0];
}

/** Option helpers that turn strings into checked numbers with one-line errors. */
export function intOption(
  values: CliContext['values'],
  name: string,
  def: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const v = values[name];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !/^-?\d+$/.test(v.trim()))
    throw new UsageError(`--${name} must be an integer, got '${String(v)}'`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function intListOption(
  values: CliContext['values'],
  name: string,
  def: number[],
  min = 1,
  max = 1 << 20,
): number[] {
  const v = values[name];
  if (v === undefined) return def;
  if (typeof v !== 'string') throw new UsageError(`--${name} needs a value`);
  const parts = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new UsageError(`--${name} needs a comma-separated list of integers`);
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new UsageError(`--${name}: '${p}' is not a positive integer`);
    const n = Number(p);
    if (n < min || n > max) throw new UsageError(`--${name}: ${n} is out of range ${min}..${max}`);
    return n;
  });
}

export function stringOption(values: CliContext['values'], name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name} needs a value`);
  return v;
}

export function choiceOption<T extends string>(
  values: CliContext['values'],
  name: string,
  choices: readonly T[],
  def: T,
): T {
  const v = values[name];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v))
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${String(v)}'`);
  return v as T;
}

/** A report's format from its file name (`--report F.html|.md|.json`). */
export function reportFormatOf(p: string): 'html' | 'md' | 'json' {
  const ext = path.extname(p).toLowerCase();
  if (ext === '.html' || ext === '.htm') return 'html';
  if (ext === '.md') return 'md';
  if (ext === '.json') return 'json';
  throw new UsageError(`--report ${p}: use a .html, .md or .json file name`);
}

/** `--formats q4_0,q4_k`: the type ids, in the order given; undefined when the option is absent. A name
 * that is not a supported format is bad input naming the ones that are. */
export function formatsOption(values: CliContext['values']): number[] | undefined {
  const v = stringOption(values, 'formats');
  if (v === undefined) return undefined;
  return v.split(',').map((f) => {
    const t = typeByName(f.trim());
    if (!t?.supported)
      throw new UsageError(
        `--formats: '${f.trim()}' is not a supported format (supported: ${SUPPORTED_TYPES.map((x) => x.name.toLowerCase()).join(', ')})`,
      );
    return t.id;
  });
}
