/**
 * Opening a model that is not in the list: a path field that completes folders and .gguf files
 * through the engine's completePath (browser mode: below the served folders; the desktop app:
 * anywhere), and in browser mode an upload of local files, streamed to the server.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useApp } from '../context';
import { fmtBytes } from '../lib/format';
import type { PathCompletion } from '../../../src-shared/contract';
import type { QuantScopeClient } from '../api';
import '../open.css';

const COMPLETE_DELAY_MS = 120;

/** Whether a completion request for `value` is worth making (an empty field lists the roots). */
function wantsCompletion(value: string): boolean {
  return !/\.gguf$/i.test(value.trim());
}

export function PathField() {
  const s = useApp((s) => ({ api: s.api, openModel: s.openModel, opening: s.opening }));
  const [value, setValue] = useState('');
  const [entries, setEntries] = useState<PathCompletion[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const [shown, setShown] = useState(false);
  const seq = useRef(0);
  const inputRef = useRef<HTMLInputElement>(null);

  // Ask for completions shortly after typing stops; an older answer never replaces a newer one.
  useEffect(() => {
    if (!shown) return;
    const mine = ++seq.current;
    const t = setTimeout(() => {
      if (!wantsCompletion(value)) {
        setEntries([]);
        setError(null);
        return;
      }
      s.api.completePath(value).then(
        (list) => {
          if (seq.current !== mine) return;
          setEntries(list);
          setError(null);
          setActive(0);
        },
        (e: unknown) => {
          if (seq.current !== mine) return;
          setEntries([]);
          setError(e instanceof Error ? e.message : String(e));
        },
      );
    }, COMPLETE_DELAY_MS);
    return () => clearTimeout(t);
  }, [value, shown, s.api]);

  const choose = (c: PathCompletion) => {
    if (c.kind === 'folder') {
      setValue(c.path);
      inputRef.current?.focus();
    } else void open(c.path);
  };

  const open = async (p: string) => {
    const path = p.trim();
    if (!path) return;
    setShown(false);
    await s.openModel(path);
  };

  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' && entries.length > 0) {
      e.preventDefault();
      setActive((a) => Math.min(entries.length - 1, a + 1));
    } else if (e.key === 'ArrowUp' && entries.length > 0) {
      e.preventDefault();
      setActive((a) => Math.max(0, a - 1));
    } else if (e.key === 'Tab' && entries.length > 0 && shown && !e.shiftKey) {
      // Tab completes to the highlighted entry (a folder descends into it)
      e.preventDefault();
      const c = entries[active] ?? entries[0];
      setValue(c.path);
    } else if (e.key === 'Enter') {
      // a typed .gguf path opens; otherwise the highlighted entry (a folder: descend, a file: open)
      e.preventDefault();
      const c = shown ? entries[active] : undefined;
      if (/\.gguf$/i.test(value.trim()) || !c) void open(value);
      else choose(c);
    } else if (e.key === 'Escape' && shown && entries.length > 0) {
      e.stopPropagation();
      setShown(false);
    }
  };

  return (
    <div className="path-field" data-testid="path-field">
      <div className="path-row">
        <input
          ref={inputRef}
          className="path-input"
          data-testid="path-input"
          type="text"
          spellCheck={false}
          autoComplete="off"
          placeholder="Path to a .gguf file (Tab completes)"
          aria-label="Model path"
          aria-autocomplete="list"
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            setShown(true);
          }}
          onFocus={() => setShown(true)}
          onKeyDown={onKey}
        />
        <button
          className="btn small"
          data-testid="path-open"
          disabled={s.opening !== null || !/\.gguf$/i.test(value.trim())}
          onClick={() => void open(value)}
        >
          Open
        </button>
      </div>
      {shown && error && (
        <p className="error-text path-error" data-testid="path-error">
          {error}
        </p>
      )}
      {shown && entries.length > 0 && (
        <ul className="path-completions" role="listbox" data-testid="path-completions">
          {entries.map((c, i) => (
            <li key={c.path} role="option" aria-selected={i === active}>
              <button
                className={`path-completion${i === active ? ' active' : ''}`}
                data-testid="path-completion"
                data-kind={c.kind}
                data-name={c.name}
                title={c.path}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => choose(c)}
              >
                <span className="path-kind" aria-hidden>
                  {c.kind === 'folder' ? '▸' : '◆'}
                </span>
                <span className="path-name">
                  {c.name}
                  {c.files !== undefined && <span className="muted"> ({c.files} files)</span>}
                </span>
                {c.size !== undefined && <span className="file-size num">{fmtBytes(c.size)}</span>}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * Browser mode: uploads local .gguf files and opens them: one model file, or all the files of one
 * split model (chosen together; dropping them on the window does the same). While one uploads, its
 * progress (bytes, percent, rate, time left) shows with a bar and a Cancel button.
 */
export function UploadButton() {
  const s = useApp((s) => ({
    api: s.api as QuantScopeClient,
    uploadFiles: s.uploadFiles,
    cancelUpload: s.cancelUpload,
    opening: s.opening,
    uploading: s.uploading,
    uploadBytes: s.uploadBytes,
  }));
  const inputRef = useRef<HTMLInputElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  // After Cancel the progress line and its button go: the focus moves to Upload… (enabled again
  // once the upload has stopped), so it stays in the dialog.
  const refocus = useRef(false);
  useEffect(() => {
    if (s.opening === null && refocus.current) {
      refocus.current = false;
      buttonRef.current?.focus();
    }
  }, [s.opening]);
  if (!s.api.uploadModel) return null;
  const bytes = s.uploadBytes;
  // all the bytes are out: the server is opening the model, and there is nothing left to cancel
  const allSent = bytes !== null && bytes.sent >= bytes.total;
  return (
    <span className="upload">
      <input
        ref={inputRef}
        type="file"
        accept=".gguf"
        multiple
        hidden
        data-testid="upload-input"
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = '';
          if (files.length > 0) void s.uploadFiles(files);
        }}
      />
      <button
        ref={buttonRef}
        className="btn small"
        data-testid="upload-button"
        disabled={s.opening !== null}
        title="Send a .gguf file, or all the files of a split model, from this computer to the server, which keeps them until it stops"
        onClick={() => inputRef.current?.click()}
      >
        Upload…
      </button>
      {s.uploading && (
        <span className="upload-progress" data-testid="upload-progress">
          {bytes && (
            <progress
              data-testid="upload-bar"
              aria-label="Upload progress"
              max={Math.max(1, bytes.total)}
              value={Math.min(bytes.sent, bytes.total)}
            />
          )}
          {/* not a live region: it changes several times a second; the bar has the accessible value */}
          <span className="muted num" data-testid="uploading">
            {s.uploading}
          </span>
          <button
            className="btn small"
            data-testid="upload-cancel"
            disabled={allSent}
            title={
              allSent
                ? 'All of it is sent; the server is opening the model'
                : 'Stop the upload; the server removes what it received'
            }
            onClick={() => {
              refocus.current = true;
              s.cancelUpload();
            }}
          >
            Cancel
          </button>
        </span>
      )}
    </span>
  );
}
