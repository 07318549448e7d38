/**
 * `npm run fuzz -- [--seconds N] [--timeout-ms N] [--max-mb N] [--seed N]`: mutation fuzzing of the
 * GGUF reader and the row dequantizers (target and mutator: test/gguf/fuzz-lib.ts), seeded with valid
 * files of every supported format plus every file already in test/gguf/fuzz-corpus/.
 *
 * The loop runs in a worker thread; this thread watches it. A finding is saved to
 * test/gguf/fuzz-corpus/ (which the unit tests replay) when the target throws anything but a clean
 * one-line error, when one input runs longer than --timeout-ms (the worker is stopped and restarted),
 * or when the process grows past --max-mb of memory or the worker's heap limit.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Rng } from '../src-main/engine/rng';
import { fuzzSeeds, mutate, runTarget } from '../test/gguf/fuzz-lib';

const HERE = fileURLToPath(import.meta.url);
const CORPUS = path.join(path.dirname(HERE), '..', 'test', 'gguf', 'fuzz-corpus');
const MAX_INPUT = 1 << 20;

interface Shared {
  ctl: SharedArrayBuffer; // Int32: [iterations, current input length]
  input: SharedArrayBuffer; // the input being run
  seconds: number;
  seed: number;
}

function corpusFiles(): Uint8Array[] {
  if (!fs.existsSync(CORPUS)) return [];
  return fs
    .readdirSync(CORPUS)
    .filter((f) => f.endsWith('.gguf'))
    .map((f) => new Uint8Array(fs.readFileSync(path.join(CORPUS, f))));
}

function workerLoop(sh: Shared): void {
  const ctl = new Int32Array(sh.ctl);
  const input = new Uint8Array(sh.input);
  const pool = [...fuzzSeeds(), ...corpusFiles()];
  const rng = new Rng(sh.seed);
  const deadline = Date.now() + sh.seconds * 1000;
  let ok = 0;
  let rejected = 0;
  const seen = new Set<string>();
  while (Date.now() < deadline) {
    let m = mutate(rng, pool[rng.int(0, pool.length - 1)], pool);
    if (m.length > MAX_INPUT) m = m.subarray(0, MAX_INPUT);
    input.set(m);
    Atomics.store(ctl, 1, m.length);
    const r = runTarget(m);
    Atomics.add(ctl, 0, 1);
    if (r.kind === 'ok') ok++;
    else if (r.kind === 'rejected') rejected++;
    else if (!seen.has(r.what)) {
      seen.add(r.what);
      parentPort!.postMessage({ type: 'finding', what: r.what, bytes: m.slice() });
    }
  }
  parentPort!.postMessage({ type: 'done', ok, rejected, seeds: pool.length });
}

function save(kind: string, what: string, bytes: Uint8Array): string {
  fs.mkdirSync(CORPUS, { recursive: true });
  const id = createHash('sha1').update(bytes).digest('hex').slice(0, 12);
  const file = path.join(CORPUS, `${kind}-${id}.gguf`);
  fs.writeFileSync(file, bytes);
  console.log(`finding (${kind}): ${what}\n  saved ${path.relative(process.cwd(), file)}`);
  return file;
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

async function main(): Promise<number> {
  const seconds = arg('seconds', 60);
  const timeoutMs = arg('timeout-ms', 2000);
  const maxMb = arg('max-mb', 1536);
  let seed = arg('seed', Date.now() % 0x7fffffff);
  const end = Date.now() + seconds * 1000;
  let iterations = 0;
  let ok = 0;
  let rejected = 0;
  let seeds = 0;
  let findings = 0;
  console.log(`fuzzing the GGUF reader for ${seconds} s (per input ${timeoutMs} ms, memory ${maxMb} MB)`);
  while (Date.now() < end - 200) {
    const sh: Shared = {
      ctl: new SharedArrayBuffer(8),
      input: new SharedArrayBuffer(MAX_INPUT),
      seconds: (end - Date.now()) / 1000,
      seed: seed++,
    };
    const ctl = new Int32Array(sh.ctl);
    const current = () => new Uint8Array(sh.input).slice(0, Atomics.load(ctl, 1));
    // the worker loads this same file through tsx's loader (hooks do not carry over to workers)
    const boot = `require('tsx/cjs/api').register(); require(${JSON.stringify(HERE)});`;
    const w = new Worker(boot, {
      eval: true,
      workerData: sh,
      resourceLimits: { maxOldGenerationSizeMb: maxMb },
    });
    await new Promise<void>((resolve, reject) => {
      let last = -1;
      let lastChange = Date.now();
      let finished = false;
      const stop = (kind: string, what: string) => {
        if (finished) return;
        finished = true;
        clearInterval(timer);
        findings++;
        save(kind, what, current());
        void w.terminate().then(() => resolve());
      };
      const timer = setInterval(() => {
        const it = Atomics.load(ctl, 0);
        if (it !== last) {
          last = it;
          lastChange = Date.now();
        } else if (Date.now() - lastChange > timeoutMs) stop('hang', `one input ran over ${timeoutMs} ms`);
        const rss = process.memoryUsage().rss / 2 ** 20;
        if (rss > maxMb) stop('memory', `process memory reached ${rss.toFixed(0)} MB`);
      }, 50);
      w.on(
        'message',
        (msg: {
          type: string;
          what?: string;
          bytes?: Uint8Array;
          ok?: number;
          rejected?: number;
          seeds?: number;
        }) => {
          if (msg.type === 'finding') {
            findings++;
            save('crash', msg.what!, msg.bytes!);
          } else if (msg.type === 'done') {
            ok += msg.ok!;
            rejected += msg.rejected!;
            seeds = msg.seeds!;
          }
        },
      );
      w.on('error', (e) => {
        // a worker that never ran an input failed to start: that is a setup error, not a finding
        if (Atomics.load(ctl, 0) === 0 && Atomics.load(ctl, 1) === 0) {
          finished = true;
          clearInterval(timer);
          reject(new Error(`the fuzz worker did not start: ${(e as Error).message.split('\n')[0]}`));
        } else stop('memory', `worker died: ${(e as Error).message.split('\n')[0]}`);
      });
      w.on('exit', () => {
        if (!finished) {
          finished = true;
          clearInterval(timer);
          resolve();
        }
      });
    });
    iterations += Atomics.load(ctl, 0);
  }
  console.log(
    `${iterations} inputs from ${seeds} seed and corpus files: ${ok} parsed and read, ${rejected} rejected cleanly, ${findings} findings`,
  );
  return findings === 0 ? 0 : 1;
}

if (isMainThread) {
  main().then(
    (code) => (process.exitCode = code),
    (e) => {
      console.error(`fuzz: ${(e as Error).message}`);
      process.exitCode = 2;
    },
  );
} else {
  workerLoop(workerData as Shared);
}
