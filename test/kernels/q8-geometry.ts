import fs from 'node:fs';
import path from 'node:path';

/**
 * What qs_q8_geometry returns for a format (kernels/qs_small_q8.h): its type id, then its header's rows
 * per block (QS_Q8_RT; on HIP QS_Q8_RT_AMD), warps per block (QS_Q8_WT) and split-row flags (QS_Q8_ST, formats with split rows
 * only) for m = 1..8, or the session's QS_KERNEL_DEFINES overrides (QS_Q8_R, QS_Q8_W, QS_Q8_SPLIT) for
 * every m, as the compiled module would; then the split rows' alignment, 16.
 */
export function q8Geometry(header: string, kind: 'cuda' | 'hip'): number[] {
  const text = fs.readFileSync(path.join(__dirname, '../../kernels', `${header}.h`), 'utf8');
  const defines = new Map(
    (process.env.QS_KERNEL_DEFINES ?? '').split(',').map((d) => d.split('=') as [string, string]),
  );
  const table = (name: string, override: string) => {
    const t = new RegExp(`^#define ${name} ([0-9, ]+)$`, 'm').exec(text);
    const v = t ? t[1].split(',').map((x) => Number(x.trim())) : new Array<number>(8).fill(0);
    return defines.has(override) ? v.map(() => Number(defines.get(override))) : v;
  };
  const type = Number(/^#define QS_TYPE (\d+)$/m.exec(text)![1]);
  // a format with split rows has the table of batch sizes that read them (its pieces may come from a shared
  // header, qs_split16.h)
  const split = /^#define QS_Q8_ST /m.test(text)
    ? table('QS_Q8_ST', 'QS_Q8_SPLIT')
    : new Array<number>(8).fill(0);
  // HIP modules are built with the AMD rows (QS_Q8_RT_AMD) where the header has them
  const rows = kind === 'hip' && /^#define QS_Q8_RT_AMD /m.test(text) ? 'QS_Q8_RT_AMD' : 'QS_Q8_RT';
  return [type, ...table(rows, 'QS_Q8_R'), ...table('QS_Q8_WT', 'QS_Q8_W'), ...split, 16];
}
