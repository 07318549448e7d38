/**
 * User kernels in the run setup: per format, a code object (a .cubin for cuda, a .hsaco for hip)
 * that replaces QuantScope's kernel for that format, with its launch geometry and the arithmetic it
 * declares. The engine checks the path (in the browser mode: under the served folders) and hashes the
 * file; the run's record keeps the path and the sha256.
 */
import '../kernels.css';
import { useMemo, useState } from 'react';
import { useApp } from '../context';
import { ARITHMETIC_SCHEMES } from '../../../src-shared/contract/types';
import type { CodeObjectInfo, UserKernel } from '../../../src-shared/contract';
import { errorText } from '../store';

/** Formats with GPU kernels that a user kernel can replace (plain float formats have none of their own). */
const PLAIN = new Set(['F32', 'F16', 'BF16']);

export function UserKernelsField() {
  const s = useApp((s) => ({
    api: s.api,
    mode: s.appInfo?.mode,
    backend: s.config.backend,
    path: s.config.path,
    kernels: s.config.userKernels,
    setConfig: s.setConfig,
    model: s.model,
  }));
  const formats = useMemo(
    () =>
      s.model
        ? [
            ...new Set(
              s.model.tensors.filter((t) => t.supported && !PLAIN.has(t.typeName)).map((t) => t.typeName),
            ),
          ]
        : [],
    [s.model],
  );
  const [info, setInfo] = useState<Record<string, CodeObjectInfo | { error: string }>>({});
  const free = formats.filter((f) => !s.kernels.some((k) => k.format === f));
  const [adding, setAdding] = useState('');
  const ext = s.backend === 'hip' ? '.hsaco' : '.cubin';

  const update = (format: string, patch: Partial<UserKernel>) => {
    s.setConfig({ userKernels: s.kernels.map((k) => (k.format === format ? { ...k, ...patch } : k)) });
    if ('path' in patch) setInfo(({ [format]: _gone, ...rest }) => rest);
  };
  const check = async (k: UserKernel) => {
    try {
      const i = await s.api.codeObjectInfo(k.path.trim());
      setInfo((m) => ({ ...m, [k.format]: i }));
    } catch (e) {
      setInfo((m) => ({ ...m, [k.format]: { error: errorText(e) } }));
    }
  };
  const browse = async (k: UserKernel) => {
    try {
      const p = await s.api.pickFile('code-object');
      if (p) {
        update(k.format, { path: p });
        void check({ ...k, path: p });
      }
    } catch (e) {
      setInfo((m) => ({ ...m, [k.format]: { error: errorText(e) } }));
    }
  };

  return (
    <details className="field user-kernels" data-testid="user-kernels">
      <summary>
        User kernels{' '}
        <span className="muted">
          {s.kernels.length ? `(${s.kernels.length})` : '(none: QuantScope’s kernels)'}
        </span>
      </summary>
      <p className="hint">
        A code object per format ({ext}, exporting <span className="mono">&lt;format&gt;_matmul_kernel</span>)
        replaces QuantScope’s kernel for that format (path “custom”), as{' '}
        <span className="mono">Q4_K_MATMUL_CUBIN</span> does on the command line.
        {s.backend === 'cpu' && ' They run on cuda or hip: a cpu run leaves them out.'}
      </p>
      {s.kernels.length > 0 && s.path !== 'auto' && (
        <p className="warn-text small" data-testid="user-kernels-path">
          User kernels take the Auto path: with the {s.path} path chosen, QuantScope’s own kernels run.
        </p>
      )}
      {s.kernels.map((k) => {
        const i = info[k.format];
        return (
          <div className="user-kernel" key={k.format} data-testid={`user-kernel-${k.format}`}>
            <div className="inline">
              <b className="mono">{k.format}</b>
              <input
                className="grow mono"
                value={k.path}
                placeholder={`path to the ${ext} file`}
                aria-label={`${k.format} code object path`}
                data-testid={`user-kernel-path-${k.format}`}
                onChange={(e) => update(k.format, { path: e.target.value })}
                onBlur={() => k.path.trim() && void check(k)}
              />
              {s.mode === 'electron' && (
                <button className="btn small" onClick={() => void browse(k)}>
                  Browse…
                </button>
              )}
              <button
                className="btn small"
                title="Remove"
                aria-label={`Remove the ${k.format} user kernel`}
                onClick={() => s.setConfig({ userKernels: s.kernels.filter((x) => x.format !== k.format) })}
              >
                ✕
              </button>
            </div>
            {i &&
              ('error' in i ? (
                <p className="error-text small" data-testid={`user-kernel-error-${k.format}`}>
                  {i.error}
                </p>
              ) : (
                <p className="hint num" data-testid={`user-kernel-info-${k.format}`}>
                  {i.fileName} · {i.size.toLocaleString('en-US')} bytes · sha256 {i.sha256.slice(0, 16)}…
                </p>
              ))}
            <div className="inline geometry">
              {(['grid', 'block', 'shared'] as const).map((g) => (
                <label key={g} className="inline">
                  {g}
                  <input
                    className="mono"
                    value={k[g] ?? ''}
                    placeholder={g === 'grid' ? 'm' : g === 'block' ? '256' : '0'}
                    title={
                      g === 'shared'
                        ? 'dynamic shared memory, bytes'
                        : `up to three expressions of m, n, k with ceiling division, e.g. ${g === 'grid' ? 'n/8,m' : '128'}`
                    }
                    data-testid={`user-kernel-${g}-${k.format}`}
                    onChange={(e) => update(k.format, { [g]: e.target.value.trim() || undefined })}
                  />
                </label>
              ))}
              <label className="inline">
                arithmetic
                <select
                  value={k.arithmetic ?? 'f32'}
                  data-testid={`user-kernel-arithmetic-${k.format}`}
                  onChange={(e) => update(k.format, { arithmetic: e.target.value })}
                >
                  {ARITHMETIC_SCHEMES.map((a) => (
                    <option key={a} value={a}>
                      {a}
                    </option>
                  ))}
                </select>
              </label>
            </div>
          </div>
        );
      })}
      {free.length > 0 && (
        <div className="inline">
          <select
            value={adding}
            aria-label="Format of a new user kernel"
            data-testid="user-kernel-format"
            onChange={(e) => setAdding(e.target.value)}
          >
            <option value="">format…</option>
            {free.map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </select>
          <button
            className="btn small"
            disabled={!adding}
            data-testid="user-kernel-add"
            onClick={() => {
              s.setConfig({ userKernels: [...s.kernels, { format: adding, path: '', arithmetic: 'f32' }] });
              setAdding('');
            }}
          >
            Add kernel
          </button>
        </div>
      )}
    </details>
  );
}
