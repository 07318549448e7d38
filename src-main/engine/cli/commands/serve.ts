import fs from 'node:fs';
import path from 'node:path';
import type { EngineApi } from '../../../../src-shared/contract';
import { DEFAULT_MAX_UPLOAD_BYTES, startServer, type RunningServer } from '../../server/serve';
import { findUp, samplesDir } from '../../paths';
import { UsageError, intOption, stringOption, type CliCommand, type CliContext } from '../framework';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** The built renderer: --ui, else out/renderer next to the bundle (dist/ -> ../out/renderer) or the sources. */
export function findUiDir(explicit?: string): { dir: string; built: boolean } {
  if (explicit) {
    const dir = path.resolve(explicit);
    return { dir, built: fs.existsSync(path.join(dir, 'index.html')) };
  }
  const found = findUp(path.join('out', 'renderer', 'index.html'));
  if (found) return { dir: path.dirname(found), built: true };
  return { dir: path.resolve('out', 'renderer'), built: false };
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** A byte count: a whole number, optionally with K, M, G or T (binary: 1G = 2^30), e.g. 64G. */
export function parseByteSize(raw: string, what: string): number {
  const m = /^\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(raw);
  const value = m ? Number(m[1]) * BYTE_UNITS[m[2].toLowerCase()] : NaN;
  if (!Number.isSafeInteger(value))
    throw new UsageError(`${what}: expected a number of bytes such as 1000000, 500M or 64G, got '${raw}'`);
  return value;
}

/**
 * The access token: --token (visible to other users in `ps`), --token-file (first line of a file),
 * or the QS_TOKEN environment variable; at most one of the options; none = a random token.
 */
export function tokenFrom(
  values: CliContext['values'],
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const inline = stringOption(values, 'token');
  const file = stringOption(values, 'token-file');
  if (inline !== undefined && file !== undefined)
    throw new UsageError('--token and --token-file: give one of them');
  if (file !== undefined) {
    let text: string;
    try {
      const st = fs.statSync(file);
      if (!st.isFile()) throw new Error('not a regular file');
      if (st.size > 4096) throw new Error(`${st.size} bytes is too long for a token file`);
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`--token-file ${file}: ${(e as Error).message}`);
    }
    const first = text.split(/\r?\n/, 1)[0].trim();
    if (!first) throw new UsageError(`--token-file ${file}: the file is empty`);
    return first;
  }
  if (inline !== undefined) return inline;
  const fromEnv = env.QS_TOKEN?.trim();
  return fromEnv ? fromEnv : undefined;
}

/** Starts the server from parsed options and prints where it is; the caller decides when to stop. */
export async function startServe(
  ctx: Pick<CliContext, 'values' | 'stdout' | 'stderr'>,
  engine?: EngineApi,
): Promise<RunningServer> {
  const port = intOption(ctx.values, 'port', 0, 0, 65535);
  const host = stringOption(ctx.values, 'host') ?? '127.0.0.1';
  if (!host.trim()) throw new UsageError('--host needs a value');
  const token = tokenFrom(ctx.values);
  const modelsRaw = ctx.values.models;
  const modelDirs = (
    Array.isArray(modelsRaw) ? modelsRaw : typeof modelsRaw === 'string' ? [modelsRaw] : []
  ).map((d) => path.resolve(d));
  for (const d of modelDirs) {
    if (!fs.existsSync(d)) throw new UsageError(`--models: folder not found: ${d}`);
    if (!fs.statSync(d).isDirectory()) throw new UsageError(`--models: not a folder: ${d}`);
  }
  const hostsRaw = ctx.values['allow-host'];
  const allowedHostNames = Array.isArray(hostsRaw)
    ? hostsRaw
    : typeof hostsRaw === 'string'
      ? [hostsRaw]
      : [];
  const maxUploadRaw = stringOption(ctx.values, 'max-upload');
  const maxUploadBytes =
    maxUploadRaw !== undefined ? parseByteSize(maxUploadRaw, '--max-upload') : DEFAULT_MAX_UPLOAD_BYTES;
  const ui = findUiDir(stringOption(ctx.values, 'ui'));
  if (!ui.built)
    ctx.stderr.write(
      `quantscope: warning: the UI is not built (no ${path.join(ui.dir, 'index.html')}); run \`npm run build\` ` +
        'first — the API still works, the page will say so\n',
    );
  const server = await startServer({
    host,
    port,
    modelDirs,
    samplesDir: samplesDir(),
    uiDir: ui.dir,
    token,
    engine,
    allowedHostNames,
    maxUploadBytes,
  });
  if (!LOOPBACK.has(host))
    ctx.stderr.write(
      `quantscope: warning: listening on ${host}, not loopback: anyone who can reach this port and has the token can use it\n`,
    );
  const dirs = modelDirs.length > 0 ? modelDirs.join(', ') : `${samplesDir()} (samples; add --models <dir>)`;
  ctx.stdout.write(`QuantScope is serving models from ${dirs}\n`);
  ctx.stdout.write(`Open ${server.url}\n`);
  return server;
}

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'run the app in a browser: serve the UI and engine on 127.0.0.1 with a one-time token',
  help: `quantscope serve [--port N] [--host 127.0.0.1] [--models <dir> ...] [--max-upload BYTES] [--ui <dir>] [--token T | --token-file F] [--allow-host NAME ...]
  --port N        port to listen on (default 0 = a free one)
  --host H        address to bind (default 127.0.0.1; anything else exposes the app to the network)
  --models DIR    folder whose .gguf files may be opened (repeatable); only these folders and the
                  uploads are served. Without --models: the bundled samples folder
  --max-upload B  largest upload the page may send, in bytes or with K/M/G/T (default 64G): one
                  .gguf file, or all the files of a split model together; uploads go to a
                  temporary folder that is removed when the server stops
  --ui DIR        the built renderer (default: out/renderer next to the app)
  --token-file F  use the first line of file F as the access token instead of a random one
                  (8-256 chars of [A-Za-z0-9._~-]); the environment variable QS_TOKEN does the same
  --token T       the same on the command line (other users of the machine can see it in ps)
  --allow-host N  also accept requests addressed to host name N (repeatable; IP addresses and
                  localhost always work; other names are refused against DNS rebinding)
Prints the URL to open (it carries the token). Stop with Ctrl+C.`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    models: { type: 'string', multiple: true },
    ui: { type: 'string' },
    token: { type: 'string' },
    'token-file': { type: 'string' },
    'allow-host': { type: 'string', multiple: true },
    'max-upload': { type: 'string' },
  },
  maxPositionals: 0,
  async run(ctx) {
    let server: RunningServer;
    try {
      server = await startServe(ctx);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError((e as Error).message);
    }
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    ctx.stdout.write('stopping\n');
    await server.close();
    return 0;
  },
};
