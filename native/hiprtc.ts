/**
 * koffi declarations for hiprtc (HIP run-time compilation): declarations, library lookup and error
 * mapping only. Hand-written for the same reason as native/hip.ts (no maintained JS binding).
 *
 * ROCm 6/7 ship hiprtc as its own library (libhiprtc.so.7 / .so.6); ROCm 5 builds (Debian's 5.2
 * among them) export the hiprtc* symbols from libamdhip64 itself, so when no libhiprtc loads we
 * fall back to the HIP runtime library if it has hiprtcCreateProgram.
 */
import koffi, { type LibraryHandle } from 'koffi';
import path from 'node:path';
import { GpuError } from './errors';
import {
  HipLibraryNotFoundError,
  libraryCandidates,
  loadHip,
  openFirst,
  type NativePtr,
  type Out,
} from './hip';

export const HIPRTC_SUCCESS = 0;

export interface HiprtcApi {
  /** the file the hiprtc symbols come from (libamdhip64 on ROCm 5) */
  readonly libraryPath: string;
  hiprtcVersion(major: Out<number>, minor: Out<number>): number;
  hiprtcCreateProgram(
    prog: Out<NativePtr | null>,
    src: string,
    name: string,
    numHeaders: number,
    headers: string[] | null,
    includeNames: string[] | null,
  ): number;
  hiprtcCompileProgram(prog: NativePtr, numOptions: number, options: string[] | null): number;
  hiprtcGetProgramLogSize(prog: NativePtr, size: Out<number | bigint>): number;
  hiprtcGetProgramLog(prog: NativePtr, log: Uint8Array): number;
  hiprtcGetCodeSize(prog: NativePtr, size: Out<number | bigint>): number;
  hiprtcGetCode(prog: NativePtr, code: Uint8Array): number;
  hiprtcDestroyProgram(prog: Out<NativePtr | null>): number;
  hiprtcGetErrorString(code: number): string;
}

export const HIPRTC_LIBRARY_NAMES =
  process.platform === 'win32'
    ? [
        'hiprtc0701.dll',
        'hiprtc0700.dll',
        'hiprtc0605.dll',
        'hiprtc0604.dll',
        'hiprtc0603.dll',
        'hiprtc0602.dll',
      ]
    : ['libhiprtc.so.7', 'libhiprtc.so.6', 'libhiprtc.so.5', 'libhiprtc.so'];

function declare(lib: LibraryHandle, libraryPath: string): HiprtcApi {
  const f = (proto: string) => lib.func(proto);
  return {
    libraryPath,
    hiprtcVersion: f('int hiprtcVersion(_Out_ int *major, _Out_ int *minor)'),
    hiprtcCreateProgram: f(
      'int hiprtcCreateProgram(_Out_ void **prog, const char *src, const char *name, int numHeaders, ' +
        'const char **headers, const char **includeNames)',
    ),
    hiprtcCompileProgram: f('int hiprtcCompileProgram(void *prog, int numOptions, const char **options)'),
    hiprtcGetProgramLogSize: f('int hiprtcGetProgramLogSize(void *prog, _Out_ size_t *logSizeRet)'),
    hiprtcGetProgramLog: f('int hiprtcGetProgramLog(void *prog, _Out_ uint8_t *log)'),
    hiprtcGetCodeSize: f('int hiprtcGetCodeSize(void *prog, _Out_ size_t *codeSizeRet)'),
    hiprtcGetCode: f('int hiprtcGetCode(void *prog, _Out_ uint8_t *code)'),
    hiprtcDestroyProgram: f('int hiprtcDestroyProgram(_Inout_ void **prog)'),
    hiprtcGetErrorString: f('const char *hiprtcGetErrorString(int result)'),
  };
}

const cache = new Map<string, HiprtcApi>();

/**
 * Loads hiprtc: `QUANTSCOPE_HIPRTC_LIBRARY`, else libhiprtc.so.{7,6,5}, else the HIP runtime
 * library when it exports hiprtc (ROCm 5). Throws HipLibraryNotFoundError naming libhiprtc.so.
 */
export function loadHiprtc(candidates?: string[]): HiprtcApi {
  const override = process.env.QUANTSCOPE_HIPRTC_LIBRARY;
  const list =
    candidates ??
    (override ? override.split(path.delimiter).filter(Boolean) : libraryCandidates(HIPRTC_LIBRARY_NAMES));
  const key = list.join('\0');
  const hit = cache.get(key);
  if (hit) return hit;
  let api: HiprtcApi;
  try {
    const { lib, path: p } = openFirst('libhiprtc.so', list);
    api = declare(lib, p);
  } catch (e) {
    if (!(e instanceof HipLibraryNotFoundError)) throw e;
    // ROCm 5: hiprtc lives inside libamdhip64
    let hipPath: string;
    try {
      hipPath = loadHip().libraryPath;
    } catch {
      throw e;
    }
    const lib = koffi.load(hipPath);
    try {
      lib.func(
        'int hiprtcCreateProgram(_Out_ void **prog, const char *src, const char *name, int n, const char **h, const char **i)',
      );
    } catch {
      throw new HipLibraryNotFoundError(
        'libhiprtc.so',
        [...list, `${hipPath} (no hiprtc symbols)`],
        e.lastError,
      );
    }
    api = declare(lib, hipPath);
  }
  cache.set(key, api);
  return api;
}

export function hiprtcErrorText(api: HiprtcApi, code: number): string {
  try {
    return api.hiprtcGetErrorString(code) || `HIPRTC error ${code}`;
  } catch {
    return `HIPRTC error ${code}`;
  }
}

/** Throws GpuError(apiName, code, hiprtcGetErrorString[ + detail]) when a call failed. */
export function hiprtcCheck(api: HiprtcApi, apiName: string, code: number, detail?: string): void {
  if (code !== HIPRTC_SUCCESS) {
    const text = hiprtcErrorText(api, code);
    throw new GpuError(apiName, code, detail ? `${text}: ${detail}` : text);
  }
}
