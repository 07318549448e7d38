import { useState } from 'react';
import { useApp } from '../context';
import { isActive } from '../lib/runState';
import { countResults } from '../lib/results';
import { download } from '../lib/download';
import { uploadPercent } from '../lib/upload';
import type { View } from '../store';

const TABS: { id: View; label: string; key: string }[] = [
  { id: 'model', label: 'Model', key: '1' },
  { id: 'results', label: 'Results', key: '2' },
  { id: 'charts', label: 'Charts', key: '3' },
  { id: 'history', label: 'History', key: '4' },
  { id: 'kernels', label: 'Kernels', key: '5' },
];

export function TopBar() {
  const s = useApp((s) => ({
    model: s.model,
    view: s.view,
    theme: s.theme,
    runStatus: s.run.status,
    runId: s.run.runId,
    results: s.results,
    exporting: s.exporting,
    mode: s.appInfo?.mode,
    version: s.appInfo?.version,
    setView: s.setView,
    setPickerOpen: s.setPickerOpen,
    toggleTheme: s.toggleTheme,
    setHelpOpen: s.setHelpOpen,
    startRun: s.startRun,
    cancelRun: s.cancelRun,
    exportReport: s.exportReport,
    uploading: s.uploading,
    uploadBytes: s.uploadBytes,
    pickerOpen: s.pickerOpen,
  }));
  const [format, setFormat] = useState<'html' | 'json' | 'md'>('html');
  const active = isActive(s.runStatus);
  const counts = countResults(s.results);

  const onExport = async () => {
    const rep = await s.exportReport(format);
    if (rep && !rep.savedPath && s.mode !== 'electron') download(rep.fileName, rep.content);
  };

  return (
    <header className="topbar">
      <div className="brand" title={s.version ? `QuantScope ${s.version}` : 'QuantScope'}>
        <span className="logo" aria-hidden>
          ◧
        </span>
        <span className="brand-name">QuantScope</span>
      </div>
      <button
        className="btn model-btn"
        data-testid="open-model"
        onClick={() => s.setPickerOpen(true)}
        title={s.model ? `${s.model.fileName}: open another model (Ctrl+O)` : 'Open a GGUF model (Ctrl+O)'}
      >
        {s.model ? (
          <>
            <span className="muted model-label">Model</span>
            <span className="model-name" data-testid="model-name">
              {s.model.fileName}
            </span>
          </>
        ) : (
          'Open model…'
        )}
      </button>
      {s.uploadBytes && s.uploading && !s.pickerOpen && !(s.view === 'model' && !s.model) && (
        // an upload goes on with the picker closed: its progress stays in sight, and a click opens
        // the picker, where its line and Cancel are (the first-start page shows them itself)
        <button
          className="btn upload-indicator"
          data-testid="upload-indicator"
          onClick={() => s.setPickerOpen(true)}
          title={`${s.uploading} (open the model picker to cancel it)`}
        >
          <span className="spinner" aria-hidden />
          Uploading {uploadPercent(s.uploadBytes.sent, s.uploadBytes.total)}%
        </button>
      )}
      <nav className="tabs" role="tablist">
        {TABS.map((t) => (
          <button
            key={t.id}
            role="tab"
            aria-selected={s.view === t.id}
            className={s.view === t.id ? 'tab active' : 'tab'}
            data-testid={`tab-${t.id}`}
            onClick={() => s.setView(t.id)}
            title={`${t.label} (${t.key})`}
          >
            {t.label}
            {t.id === 'results' && counts.total > 0 && (
              <span className="tab-badges">
                <span className="badge pass">{counts.pass}</span>
                {counts.fail > 0 && <span className="badge fail">{counts.fail}</span>}
                {counts.error > 0 && <span className="badge error">{counts.error}</span>}
                {counts['not-comparable'] > 0 && (
                  <span className="badge not-comparable" title="not comparable: non-finite block scales">
                    {counts['not-comparable']}
                  </span>
                )}
              </span>
            )}
          </button>
        ))}
      </nav>
      <div className="spacer" />
      {active ? (
        <button
          className="btn danger"
          data-testid="cancel-run"
          onClick={() => s.cancelRun()}
          disabled={s.runStatus === 'cancelling'}
          title="Cancel the run (Esc)"
        >
          {s.runStatus === 'cancelling' ? 'Cancelling…' : 'Cancel'}
        </button>
      ) : (
        <button
          className="btn primary"
          data-testid="run"
          onClick={() => s.startRun()}
          disabled={!s.model}
          title="Run the selected tensors (Ctrl+R / Ctrl+Enter)"
        >
          ▶ Run
        </button>
      )}
      <div className="export">
        <select
          aria-label="Report format"
          data-testid="export-format"
          value={format}
          onChange={(e) => setFormat(e.target.value as 'html' | 'json' | 'md')}
        >
          <option value="html">HTML</option>
          <option value="json">JSON</option>
          <option value="md">Markdown</option>
        </select>
        <button
          className="btn"
          data-testid="export-report"
          onClick={onExport}
          disabled={!s.runId || active || s.exporting}
          title="Export a report of the latest run"
        >
          {s.exporting ? (
            'Exporting…'
          ) : (
            <>
              <span className="export-long">Export report</span>
              <span className="export-short">Export</span>
            </>
          )}
        </button>
      </div>
      <button
        className="btn icon"
        data-testid="theme-toggle"
        onClick={s.toggleTheme}
        title={`Switch to ${s.theme === 'dark' ? 'light' : 'dark'} theme`}
        aria-label="Toggle theme"
      >
        {s.theme === 'dark' ? '☀' : '☾'}
      </button>
      <button
        className="btn icon"
        data-testid="help-toggle"
        onClick={() => s.setHelpOpen(true)}
        title="Keyboard shortcuts (?)"
        aria-label="Keyboard shortcuts"
      >
        ?
      </button>
    </header>
  );
}
