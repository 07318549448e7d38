// Ahead-of-time build of the kernel sources (kernels/*.cu, sharing kernels/qs_port.h) into code
// objects: nvcc -> <name>.sm_80.cubin, <name>.sm_90a.cubin (Hopper, with its wgmma kernel),
// <name>.compute_90.ptx; hipcc (AMD platform) -> <name>.gfx90a.hsaco, <name>.gfx1030.hsaco; all in
// build/kernels with a manifest.json (file, arch, compiler + version, source and header sha256). The
// app compiles at run time with nvrtc/hiprtc; these files are for checking that the sources build with the offline toolchains,
// and for shipping prebuilt objects.
//
// Hand-written (no build tool in the project drives nvcc/hipcc); plain Node, no dependencies.
//
// Usage: node scripts/build-kernels.mjs [--only cuda|hip] [--arch sm_80,sm_90a,compute_90,gfx90a,...]
//          [--src kernels|file.cu,...] [--out build/kernels] [--nvcc PATH] [--hipcc PATH]
//          [--jobs N] [--force] [--require]
// A missing compiler is reported and skipped (exit 0) unless --require is given (exit 1).
// Exit 1 on a failed compile, 2 on bad usage.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_ARCHS = { cuda: ['sm_80', 'sm_90a', 'compute_90'], hip: ['gfx90a', 'gfx1030'] };
const COMPILE_TIMEOUT_MS = 600_000;
const HEADER_EXT = /\.(h|hpp|cuh|inc)$/;

class UsageError extends Error {}

function parseArgs(argv) {
  const o = {
    only: null,
    archs: null,
    src: null,
    out: null,
    nvcc: null,
    hipcc: null,
    jobs: 1,
    force: false,
    require: false,
  };
  const value = (i, name) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const [name, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const take = () => (inline !== undefined ? inline : value(i++, name));
    switch (name) {
      case '--only': {
        const v = take();
        if (v !== 'cuda' && v !== 'hip') throw new UsageError(`--only must be cuda or hip, got '${v}'`);
        o.only = v;
        break;
      }
      case '--arch':
        o.archs = take()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (!o.archs.length) throw new UsageError('--arch needs at least one architecture');
        break;
      case '--src':
        o.src = take()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '--out':
        o.out = take();
        break;
      case '--nvcc':
        o.nvcc = take();
        break;
      case '--hipcc':
        o.hipcc = take();
        break;
      case '--jobs':
      case '-j': {
        const v = take();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 64)
          throw new UsageError(`--jobs must be an integer 1..64, got '${v}'`);
        o.jobs = n;
        break;
      }
      case '--force':
        o.force = true;
        break;
      case '--require':
        o.require = true;
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      default:
        throw new UsageError(`unknown option '${a}' (see --help)`);
    }
  }
  return o;
}

/** sm_80, sm_90a -> cubin, compute_90 -> ptx (cuda); gfx90a -> hsaco (hip). */
function classifyArch(a) {
  if (/^sm_\d{2,3}[af]?$/.test(a)) return { toolchain: 'cuda', kind: 'cubin' };
  if (/^compute_\d{2,3}[af]?$/.test(a)) return { toolchain: 'cuda', kind: 'ptx' };
  if (/^gfx[0-9a-f]{2,5}(:[a-z0-9_]+[+-])*$/i.test(a)) return { toolchain: 'hip', kind: 'hsaco' };
  throw new UsageError(`unknown architecture '${a}' (expected sm_XX, compute_XX or gfxXXX)`);
}

function isExecutable(p) {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** explicit path, else PATH, else the usual install dirs. */
function findTool(name, explicit, extraDirs) {
  if (explicit)
    return isExecutable(explicit) ? { path: explicit } : { missing: `${name} not found at ${explicit}` };
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  const names = process.platform === 'win32' ? [`${name}.exe`, `${name}.bin.exe`, name] : [name];
  for (const d of dirs) {
    for (const n of names) {
      const p = path.join(d, n);
      if (isExecutable(p)) return { path: p };
    }
  }
  return { missing: `${name} not found on PATH or in ${extraDirs.join(', ')}` };
}

function run(cmd, args, env, timeout = COMPILE_TIMEOUT_MS) {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout, maxBuffer: 64 << 20, cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, err, stdout, stderr });
    });
  });
}

const HIP_ENV = { ...process.env, HIP_PLATFORM: 'amd' };

async function probeNvcc(explicit) {
  const cudaHome = process.env.CUDA_PATH || process.env.CUDA_HOME;
  const t = findTool('nvcc', explicit, [
    ...(cudaHome ? [path.join(cudaHome, 'bin')] : []),
    '/usr/local/cuda/bin',
  ]);
  if (t.missing) return t;
  const r = await run(t.path, ['--version'], process.env, 60_000);
  const m = /release ([\d.]+), (V[\d.]+)/.exec(r.stdout);
  if (r.code !== 0 || !m)
    return { missing: `${t.path} --version failed: ${firstLine(r.stderr || r.stdout || r.err)}` };
  return { path: t.path, name: 'nvcc', version: `nvcc ${m[1]} (${m[2]})` };
}

async function probeHipcc(explicit) {
  const rocm = process.env.ROCM_PATH || process.env.HIP_PATH;
  const t = findTool('hipcc', explicit, [...(rocm ? [path.join(rocm, 'bin')] : []), '/opt/rocm/bin']);
  if (t.missing) return t;
  // without HIP_PLATFORM=amd, hipcc picks the NVIDIA platform when nvcc is installed
  const r = await run(t.path, ['--version'], HIP_ENV, 60_000);
  const hip = /HIP version:\s*(\S+)/.exec(r.stdout);
  const clang = /^.*clang version [^\n]*/m.exec(r.stdout);
  if (r.code !== 0 || !hip)
    return { missing: `${t.path} --version failed: ${firstLine(r.stderr || r.stdout || r.err)}` };
  return { path: t.path, name: 'hipcc', version: `hipcc ${hip[1]}${clang ? ` (${clang[0].trim()})` : ''}` };
}

function firstLine(x) {
  const s = String(x ?? '').trim();
  return s.split('\n').find((l) => l.trim()) ?? '(no output)';
}

/** the compiler's first error line, else its first line */
function errorLine(text) {
  const lines = String(text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => /\berror\b/i.test(l)) ?? lines[0] ?? '(no output)';
}

function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

/** one hash over every header next to the source (name + contents), so header edits rebuild */
function headersHash(dir) {
  const h = createHash('sha256');
  for (const f of readdirSync(dir)
    .filter((f) => HEADER_EXT.test(f))
    .sort()) {
    h.update(f)
      .update('\0')
      .update(readFileSync(path.join(dir, f)))
      .update('\0');
  }
  return h.digest('hex');
}

function resolveSources(srcList) {
  const out = [];
  for (const s of srcList) {
    const abs = path.resolve(ROOT, s);
    if (!existsSync(abs)) throw new UsageError(`source ${s} does not exist`);
    if (statSync(abs).isDirectory()) {
      const files = readdirSync(abs)
        .filter((f) => f.endsWith('.cu'))
        .sort();
      if (!files.length) throw new UsageError(`no .cu files in ${s}`);
      for (const f of files) out.push(path.join(abs, f));
    } else if (abs.endsWith('.cu')) out.push(abs);
    else throw new UsageError(`source ${s} is not a .cu file or a directory`);
  }
  return [...new Set(out)];
}

function commandFor(tool, job) {
  const inc = ['-I', path.dirname(job.src)];
  if (job.toolchain === 'cuda') {
    const mode = job.kind === 'cubin' ? '-cubin' : '-ptx';
    return {
      cmd: tool.path,
      args: [mode, `-arch=${job.arch}`, '-O3', '-std=c++17', ...inc, '-o', job.tmp, job.src],
      env: process.env,
    };
  }
  // --no-gpu-bundle-output: a plain AMDGPU ELF code object instead of a clang offload bundle
  return {
    cmd: tool.path,
    args: [
      '--genco',
      '--no-gpu-bundle-output',
      `--offload-arch=${job.arch}`,
      '-O3',
      '-std=c++17',
      ...inc,
      '-x',
      'hip',
      job.src,
      '-o',
      job.tmp,
    ],
    env: HIP_ENV,
  };
}

function checkOutput(kind, buf) {
  if (buf.length === 0) return 'empty output';
  if (kind === 'ptx')
    return /\.target\s+sm_/.test(buf.toString('latin1', 0, 4096)) ? null : 'no .target line in the PTX';
  const elf = buf.length >= 4 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46;
  return elf ? null : 'not an ELF file';
}

async function pool(items, n, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

const rel = (p) => path.relative(ROOT, p) || '.';

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) {
    console.log(
      readFileSync(fileURLToPath(import.meta.url), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('//'))
        .map((l) => l.slice(3))
        .join('\n'),
    );
    return 0;
  }
  const outDir = path.resolve(ROOT, o.out ?? 'build/kernels');
  const sources = resolveSources(o.src ?? ['kernels']);

  // which archs each toolchain builds
  const wanted = { cuda: [], hip: [] };
  if (o.archs) {
    for (const a of o.archs) wanted[classifyArch(a).toolchain].push(a);
  } else {
    wanted.cuda = [...DEFAULT_ARCHS.cuda];
    wanted.hip = [...DEFAULT_ARCHS.hip];
  }
  const toolchains = (o.only ? [o.only] : ['cuda', 'hip']).filter((t) => {
    if (wanted[t].length) return true;
    if (o.only)
      throw new UsageError(`--only ${t} with --arch ${o.archs.join(',')}: no ${t} architecture given`);
    return false;
  });

  const skipped = [];
  const tools = {};
  for (const t of toolchains) {
    const tool = t === 'cuda' ? await probeNvcc(o.nvcc) : await probeHipcc(o.hipcc);
    if (tool.missing) {
      skipped.push({ toolchain: t, reason: tool.missing });
      console.log(
        `build-kernels: note: ${tool.missing}; skipping ${t === 'cuda' ? 'CUDA' : 'HIP'} code objects`,
      );
    } else tools[t] = tool;
  }
  if (o.require && skipped.length) {
    console.error(`build-kernels: error: --require: ${skipped.map((s) => s.reason).join('; ')}`);
    return 1;
  }

  await mkdir(outDir, { recursive: true });
  const manifestPath = path.join(outDir, 'manifest.json');
  let previous = [];
  try {
    previous = JSON.parse(await readFile(manifestPath, 'utf8')).entries ?? [];
  } catch {
    // no manifest yet (or an unreadable one, which is rebuilt)
  }
  const prevByFile = new Map(previous.map((e) => [e.file, e]));

  const jobs = [];
  for (const src of sources) {
    const source = readFileSync(src);
    const srcHash = sha256(source);
    const hdrHash = headersHash(path.dirname(src));
    const stem = path.basename(src, '.cu');
    for (const t of Object.keys(tools)) {
      for (const arch of wanted[t]) {
        const { kind } = classifyArch(arch);
        const file = `${stem}.${arch.split(':')[0]}.${kind}`;
        const out = path.join(outDir, file);
        jobs.push({
          src,
          stem,
          arch,
          kind,
          toolchain: t,
          file,
          out,
          tmp: `${out}.tmp-${process.pid}`,
          srcHash,
          hdrHash,
        });
      }
    }
  }

  const entries = new Map();
  const failures = [];
  let built = 0;
  let upToDate = 0;
  await pool(jobs, o.jobs, async (job) => {
    const tool = tools[job.toolchain];
    const { cmd, args, env } = commandFor(tool, job);
    const flags = args.filter((a) => a !== job.src && a !== job.tmp && a !== '-o');
    const prev = prevByFile.get(job.file);
    if (
      !o.force &&
      prev &&
      existsSync(job.out) &&
      prev.sourceSha256 === job.srcHash &&
      prev.headersSha256 === job.hdrHash &&
      prev.compilerVersion === tool.version &&
      JSON.stringify(prev.flags) === JSON.stringify(flags.map((f) => f.replace(ROOT, '.'))) &&
      prev.sha256 === sha256(readFileSync(job.out))
    ) {
      entries.set(job.file, prev);
      upToDate++;
      return;
    }
    const t0 = Date.now();
    const r = await run(cmd, args, env);
    try {
      if (r.code !== 0) {
        const why = r.err?.killed
          ? `timed out after ${COMPILE_TIMEOUT_MS / 1000} s`
          : errorLine(r.stderr || r.stdout);
        failures.push({ job, why, log: r.stderr || r.stdout });
        return;
      }
      const buf = existsSync(job.tmp) ? readFileSync(job.tmp) : Buffer.alloc(0);
      const bad = checkOutput(job.kind, buf);
      if (bad) {
        failures.push({ job, why: `${bad} (${buf.length} bytes)`, log: r.stderr });
        return;
      }
      renameSync(job.tmp, job.out);
      built++;
      entries.set(job.file, {
        file: job.file,
        source: rel(job.src),
        sourceSha256: job.srcHash,
        headersSha256: job.hdrHash,
        toolchain: job.toolchain,
        kind: job.kind,
        arch: job.arch,
        compiler: tool.name,
        compilerPath: tool.path,
        compilerVersion: tool.version,
        flags: flags.map((f) => f.replace(ROOT, '.')),
        bytes: buf.length,
        sha256: sha256(buf),
        builtAt: new Date().toISOString(),
        seconds: Math.round((Date.now() - t0) / 100) / 10,
      });
      console.log(
        `build-kernels: ${rel(job.src)} -> ${rel(job.out)} (${buf.length} bytes, ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      );
    } finally {
      rmSync(job.tmp, { force: true });
    }
  });

  // keep entries of other toolchains/sources whose files are still there (e.g. after --only hip)
  for (const e of previous) {
    if (
      !entries.has(e.file) &&
      !failures.some((f) => f.job.file === e.file) &&
      existsSync(path.join(outDir, e.file))
    ) {
      entries.set(e.file, e);
    }
  }
  const manifest = {
    version: 1,
    generatedAt: new Date().toISOString(),
    compilers: Object.fromEntries(
      ['cuda', 'hip'].map((t) => [
        t,
        tools[t] ? { name: tools[t].name, path: tools[t].path, version: tools[t].version } : null,
      ]),
    ),
    skipped,
    entries: [...entries.values()].sort((a, b) => a.file.localeCompare(b.file)),
  };
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2) + '\n');

  for (const f of failures) {
    console.error(
      `build-kernels: error: ${f.job.toolchain === 'cuda' ? 'nvcc' : 'hipcc'} failed on ${rel(f.job.src)} for ${f.job.arch}: ${f.why}`,
    );
    const log = String(f.log ?? '')
      .trim()
      .split('\n')
      .slice(0, 30);
    if (log.length && log[0]) console.error(log.map((l) => `  | ${l}`).join('\n'));
  }
  console.log(
    `build-kernels: ${built} built, ${upToDate} up to date, ${failures.length} failed` +
      (skipped.length
        ? `, skipped ${skipped.map((s) => s.toolchain).join(' and ')} (compiler missing)`
        : '') +
      ` -> ${rel(manifestPath)}`,
  );
  return failures.length ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    if (e instanceof UsageError) {
      console.error(`build-kernels: usage error: ${e.message}`);
      process.exitCode = 2;
    } else {
      console.error(`build-kernels: error: ${e?.message ?? e}`);
      process.exitCode = 1;
    }
  },
);
