/**
 * koffi declarations for NVRTC (run-time compilation of CUDA C++ to PTX / CUBIN): declarations and
 * error mapping only. A failed call becomes a GpuError with the API name, the nvrtcResult code and
 * NVRTC's error string; a failed compile carries the program log.
 */
import fs from 'node:fs';
import path from 'node:path';
import koffi from 'koffi';
import { GpuError, GpuUnavailableError } from './errors';

export type NvrtcProgram = unknown;

export interface Nvrtc {
  readonly libraryPath: string;
  nvrtcVersion(major: number[], minor: number[]): number;
  nvrtcGetErrorString(code: number): string;
  nvrtcCreateProgram(
    out: NvrtcProgram[],
    src: string,
    name: string,
    numHeaders: number,
    headers: string[] | null,
    includeNames: string[] | null,
  ): number;
  nvrtcDestroyProgram(prog: NvrtcProgram[]): number;
  nvrtcCompileProgram(prog: NvrtcProgram, numOptions: number, options: string[]): number;
  nvrtcGetProgramLogSize(prog: NvrtcProgram, out: (number | bigint)[]): number;
  nvrtcGetProgramLog(prog: NvrtcProgram, log: Uint8Array): number;
  nvrtcGetPTXSize(prog: NvrtcProgram, out: (number | bigint)[]): number;
  nvrtcGetPTX(prog: NvrtcProgram, ptx: Uint8Array): number;
  nvrtcGetCUBINSize(prog: NvrtcProgram, out: (number | bigint)[]): number;
  nvrtcGetCUBIN(prog: NvrtcProgram, cubin: Uint8Array): number;
}

export const NVRTC_SUCCESS = 0;
export const NVRTC_ERROR_COMPILATION = 6;

function candidates(): string[] {
  if (process.platform === 'win32') return ['nvrtc64_130_0.dll', 'nvrtc64_120_0.dll', 'nvrtc64_112_0.dll'];
  const names = ['libnvrtc.so', 'libnvrtc.so.13', 'libnvrtc.so.12', 'libnvrtc.so.11.2'];
  const dirs = [process.env.CUDA_PATH, process.env.CUDA_HOME, '/usr/local/cuda']
    .filter((d): d is string => !!d)
    .flatMap((d) => [path.join(d, 'lib64'), path.join(d, 'lib'), path.join(d, 'targets/x86_64-linux/lib')]);
  const full = dirs.flatMap((d) => names.map((n) => path.join(d, n))).filter((p) => fs.existsSync(p));
  return [...names, ...full];
}

let cached: Nvrtc | GpuUnavailableError | undefined;

/** Loads NVRTC once; throws GpuUnavailableError with the reason when it cannot be found. */
export function loadNvrtc(): Nvrtc {
  if (cached instanceof GpuUnavailableError) throw cached;
  if (cached) return cached;
  let lib: ReturnType<typeof koffi.load> | undefined;
  let libraryPath = '';
  for (const name of candidates()) {
    try {
      lib = koffi.load(name);
      libraryPath = name;
      break;
    } catch {
      /* next candidate */
    }
  }
  if (!lib) {
    cached = new GpuUnavailableError(
      'NVRTC library not found (libnvrtc.so): install the CUDA toolkit or set CUDA_PATH',
    );
    throw cached;
  }
  koffi.pointer('QsNvrtcProgram', koffi.opaque('QsNvrtcOpaque'));
  const f = (decl: string) => lib.func(decl);
  cached = {
    libraryPath,
    nvrtcVersion: f('int nvrtcVersion(_Out_ int *major, _Out_ int *minor)'),
    nvrtcGetErrorString: f('const char *nvrtcGetErrorString(int code)'),
    nvrtcCreateProgram: f(
      'int nvrtcCreateProgram(_Out_ QsNvrtcProgram *prog, const char *src, const char *name, int numHeaders, ' +
        'const char **headers, const char **includeNames)',
    ),
    nvrtcDestroyProgram: f('int nvrtcDestroyProgram(_Inout_ QsNvrtcProgram *prog)'),
    nvrtcCompileProgram: f(
      'int nvrtcCompileProgram(QsNvrtcProgram prog, int numOptions, const char **options)',
    ),
    nvrtcGetProgramLogSize: f('int nvrtcGetProgramLogSize(QsNvrtcProgram prog, _Out_ size_t *size)'),
    nvrtcGetProgramLog: f('int nvrtcGetProgramLog(QsNvrtcProgram prog, uint8_t *log)'),
    nvrtcGetPTXSize: f('int nvrtcGetPTXSize(QsNvrtcProgram prog, _Out_ size_t *size)'),
    nvrtcGetPTX: f('int nvrtcGetPTX(QsNvrtcProgram prog, uint8_t *ptx)'),
    nvrtcGetCUBINSize: f('int nvrtcGetCUBINSize(QsNvrtcProgram prog, _Out_ size_t *size)'),
    nvrtcGetCUBIN: f('int nvrtcGetCUBIN(QsNvrtcProgram prog, uint8_t *cubin)'),
  } as unknown as Nvrtc;
  return cached;
}

/** Throws a GpuError for a failed NVRTC call (log appended for compile errors). */
export function nvrtcCheck(n: Nvrtc, api: string, code: number, log?: string): void {
  if (code === NVRTC_SUCCESS) return;
  let text = `nvrtcResult ${code}`;
  try {
    text = n.nvrtcGetErrorString(code) || text;
  } catch {
    /* keep the code */
  }
  throw new GpuError(api, code, log ? `${text}\n${log.trim()}` : text);
}
