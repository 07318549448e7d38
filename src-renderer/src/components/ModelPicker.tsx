import { useEffect } from 'react';
import { useApp } from '../context';
import { fmtBytes } from '../lib/format';
import type { ModelFileEntry } from '../../../src-shared/contract';
import { PathField, UploadButton } from './OpenByPath';
import { Modal } from './Modal';

const SOURCE_LABEL: Record<string, string> = {
  sample: 'Samples',
  models: 'Models',
  upload: 'Uploaded',
  recent: 'Recent',
};

function FileList({
  files,
  onOpen,
  opening,
}: {
  files: ModelFileEntry[];
  onOpen: (p: string) => void;
  opening: string | null;
}) {
  const groups = new Map<string, ModelFileEntry[]>();
  for (const f of files) groups.set(f.source, [...(groups.get(f.source) ?? []), f]);
  const order = [
    'recent',
    'sample',
    'models',
    'upload',
    ...[...groups.keys()].filter((k) => !SOURCE_LABEL[k]),
  ];
  return (
    <div className="file-list" data-testid="model-file-list">
      {order
        .filter((src) => groups.has(src))
        .map((src) => (
          <section key={src}>
            <h3>{SOURCE_LABEL[src] ?? src}</h3>
            <ul>
              {groups.get(src)!.map((f) => (
                <li key={`${src}:${f.path}`}>
                  <button
                    className="file-item"
                    data-testid="model-file"
                    data-name={f.name}
                    disabled={opening !== null}
                    onClick={() => onOpen(f.path)}
                    title={f.path}
                  >
                    <span className="file-name">
                      {f.name}
                      {f.files !== undefined && <span className="muted"> ({f.files} files)</span>}
                    </span>
                    <span className="file-size num">{fmtBytes(f.size)}</span>
                    {opening === f.path && <span className="spinner" aria-label="opening" />}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ))}
    </div>
  );
}

function PickerBody() {
  const s = useApp((s) => ({
    files: s.files,
    filesLoading: s.filesLoading,
    filesError: s.filesError,
    refreshFiles: s.refreshFiles,
    openError: s.openError,
    opening: s.opening,
    mode: s.appInfo?.mode,
    openModel: s.openModel,
    pickAndOpen: s.pickAndOpen,
  }));
  // The folders change behind our back (files added, deleted): list again whenever the window
  // regains focus while the list is shown.
  const refresh = s.refreshFiles;
  useEffect(() => {
    const onFocus = () => void refresh();
    window.addEventListener('focus', onFocus);
    return () => window.removeEventListener('focus', onFocus);
  }, [refresh]);
  return (
    <>
      {s.files.length > 0 ? (
        <FileList files={s.files} onOpen={s.openModel} opening={s.opening} />
      ) : s.filesLoading ? (
        <p className="muted" data-testid="files-loading">
          Looking for model files…
        </p>
      ) : (
        !s.filesError && (
          <p className="muted" data-testid="files-none">
            No model files found in the served directories.
          </p>
        )
      )}
      {s.filesError && <p className="error-text">{s.filesError}</p>}
      <div className="picker-actions">
        <button
          className="btn small"
          data-testid="refresh-files"
          title="List the model folders again"
          onClick={() => void s.refreshFiles()}
        >
          ↻ Refresh
        </button>
        {s.mode === 'electron' ? (
          <>
            <button className="btn" data-testid="browse-model" onClick={() => s.pickAndOpen()}>
              Browse…
            </button>
            <span className="muted">or drop a .gguf file anywhere in the window</span>
          </>
        ) : (
          <>
            <UploadButton />
            <span className="muted">
              or drop a .gguf file (a split model: all its files) on the window; files on the server open from{' '}
              <code>quantscope serve --models &lt;dir&gt;</code> folders
            </span>
          </>
        )}
      </div>
      <PathField />
      {s.openError && (
        <p className="error-text" role="alert" data-testid="open-error">
          {s.openError}
        </p>
      )}
    </>
  );
}

export function ModelPicker() {
  const close = useApp((s) => s.setPickerOpen);
  return (
    <Modal
      title="Open a GGUF model"
      onClose={() => close(false)}
      testId="model-picker"
      closeTestId="picker-close"
      initialFocus="[data-testid=model-file]:not(:disabled)"
    >
      <PickerBody />
    </Modal>
  );
}

/** First start: no model yet. Offer the sample and the file list right on the page. */
export function EmptyState() {
  const s = useApp((s) => ({
    files: s.files,
    opening: s.opening,
    openModel: s.openModel,
    initError: s.initError,
  }));
  const sample = s.files.find((f) => f.source === 'sample');
  return (
    <div className="empty" data-testid="empty-state">
      <h1>Verify and benchmark fused dequantize + matmul kernels</h1>
      <p className="muted">
        Open a GGUF model, pick tensors, and compare each backend&apos;s output with a float64 reference of
        llama.cpp&apos;s dequantization — with timing, bandwidth and an error heatmap for every result.
      </p>
      {s.initError && <p className="error-text">{s.initError}</p>}
      {sample && (
        <button
          className="btn primary big"
          data-testid="open-sample"
          disabled={s.opening !== null}
          onClick={() => s.openModel(sample.path)}
        >
          {s.opening === sample.path ? 'Opening…' : `Open sample model (${sample.name})`}
        </button>
      )}
      <div className="card picker-inline">
        <PickerBody />
      </div>
    </div>
  );
}
