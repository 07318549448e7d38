import { Activity, memo, useDeferredValue, useEffect, useRef } from 'react';
import { useApp, useAppStore } from './context';
import { ErrorBoundary } from './components/ErrorBoundary';
import { TopBar } from './components/TopBar';
import { ModelPicker, EmptyState } from './components/ModelPicker';
import { planUpload } from './lib/upload';
import { ModelView } from './components/ModelView';
import { RunSetup } from './components/RunSetup';
import { RunProgress } from './components/RunProgress';
import { ResultsView } from './components/ResultsView';
import { ChartsView } from './components/ChartsView';
import { HistoryView } from './components/HistoryView';
import { KernelsView } from './components/KernelsView';
import { ShortcutsHelp } from './components/ShortcutsHelp';
import { Notice } from './components/Notice';
import { ConnectionBanner } from './components/ConnectionBanner';
import { isActive } from './lib/runState';
import { shortcutFor } from './lib/shortcuts';
import type { View } from './store';
import type { QuantScopeApi } from '../../src-shared/contract';
import type { ShellExtensions } from './api';

const AREA: Record<View, string> = {
  model: 'Model view',
  results: 'Results',
  charts: 'Charts',
  history: 'History',
  kernels: 'Kernels',
};

/** One view; memoised so App re-renders (tab switches) do not re-render the views themselves. */
const Pane = memo(function Pane({ view, hasModel }: { view: View; hasModel: boolean }) {
  return (
    <ErrorBoundary area={AREA[view]}>
      <div className="pane" data-testid={`pane-${view}`}>
        {view === 'model' &&
          (hasModel ? (
            <div className="model-layout">
              <ModelView />
              <RunSetup />
            </div>
          ) : (
            <EmptyState />
          ))}
        {view === 'results' && <ResultsView />}
        {view === 'charts' && <ChartsView />}
        {view === 'history' && <HistoryView />}
        {view === 'kernels' && <KernelsView />}
      </div>
    </ErrorBoundary>
  );
});

export function App({ api }: { api: QuantScopeApi & ShellExtensions }) {
  const store = useAppStore();
  const { theme, view, model, pickerOpen, helpOpen } = useApp((s) => ({
    theme: s.theme,
    view: s.view,
    model: s.model,
    pickerOpen: s.pickerOpen,
    helpOpen: s.helpOpen,
  }));
  // Views stay mounted once visited and are hidden with <Activity>: switching tabs is a visibility
  // change, and hidden views' updates render at low priority, so input stays responsive during runs.
  // The shown view follows the selected one as a deferred value: a click selects its tab at once, and
  // the view it reveals (which may first render what streamed in while it was hidden) renders after,
  // interruptibly, so a busy machine delays the view rather than the click's feedback.
  const shown = useDeferredValue(view);
  const visited = useRef(new Set<View>());
  visited.current.add(shown);

  useEffect(() => {
    store.getState().init();
    return () => store.getState().dispose();
  }, [store]);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.style.colorScheme = theme;
  }, [theme]);

  // Keyboard shortcuts (lib/shortcuts.ts): Ctrl/Cmd+O open, Ctrl/Cmd+R or Ctrl+Enter run, Escape
  // close a dialog or (outside text fields) cancel the run, ? help, 1-5 views.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const s = store.getState();
      const target = e.target instanceof HTMLElement ? e.target : null;
      const sc = shortcutFor(e, target, {
        helpOpen: s.helpOpen,
        pickerOpen: s.pickerOpen,
        runActive: isActive(s.run.status),
      });
      switch (sc?.do) {
        case 'open-picker':
          e.preventDefault();
          s.setPickerOpen(true);
          break;
        case 'run':
          e.preventDefault();
          if (!isActive(s.run.status)) s.startRun();
          break;
        case 'close-help':
          s.setHelpOpen(false);
          break;
        case 'close-picker':
          s.setPickerOpen(false);
          break;
        case 'cancel-run':
          s.cancelRun();
          break;
        case 'toggle-help':
          s.setHelpOpen(!s.helpOpen);
          break;
        case 'view':
          s.setView(sc.view);
          break;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store]);

  // Menu commands from the Electron shell, when it offers them.
  useEffect(() => {
    if (!api.onMenuCommand) return;
    return api.onMenuCommand((cmd) => {
      const s = store.getState();
      switch (cmd) {
        case 'open':
          s.pickAndOpen();
          break;
        case 'open-sample': {
          const sample = s.files.find((f) => f.source === 'sample');
          if (sample) s.openModel(sample.path);
          else s.setPickerOpen(true);
          break;
        }
        case 'run':
          s.startRun();
          break;
        case 'cancel':
          s.cancelRun();
          break;
        case 'export-report':
          s.exportReport('html');
          break;
        case 'toggle-theme':
          s.toggleTheme();
          break;
        default:
          if (cmd.startsWith('open:')) s.openModel(cmd.slice(5));
      }
    });
  }, [api, store]);

  // Drag and drop .gguf files: Electron gives us a path through the preload; the browser uploads them
  // (one model file, or all the files of one split model).
  useEffect(() => {
    const over = (e: DragEvent) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    };
    const drop = (e: DragEvent) => {
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length === 0) return;
      e.preventDefault();
      const s = store.getState();
      const other = files.find((f) => !f.name.toLowerCase().endsWith('.gguf'));
      if (other) {
        s.setNotice({ kind: 'error', text: `${other.name} is not a .gguf file.` });
        return;
      }
      if (s.appInfo?.mode === 'electron') {
        // One file opens from where it is (any file of a split model opens all of it); several must
        // be the files of one split model, which opens from its first.
        let chosen = files[0];
        if (files.length > 1) {
          const plan = planUpload(files);
          if ('error' in plan) {
            s.setNotice({ kind: 'error', text: plan.error });
            return;
          }
          chosen = plan.files[0];
        }
        let path: string | undefined;
        try {
          path = api.pathForFile?.(chosen) ?? (chosen as File & { path?: string }).path;
        } catch {
          path = undefined;
        }
        if (path) {
          s.openModel(path);
          return;
        }
      }
      if (api.uploadModel) {
        // Browser mode: the files go to the server (streamed), which opens them.
        s.setPickerOpen(true);
        void s.uploadFiles(files);
      } else {
        s.setNotice({ kind: 'info', text: 'Open a model from the list or type its path.' });
        s.setPickerOpen(true);
      }
    };
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, [api, store]);

  return (
    <div className="app" data-testid="app" data-view={view}>
      <TopBar />
      <ConnectionBanner />
      <Notice />
      <RunProgress />
      <main className="main">
        {(['model', 'results', 'charts', 'history', 'kernels'] as const).map((v) => (
          <Activity key={v} mode={shown === v ? 'visible' : 'hidden'}>
            {visited.current.has(v) && <Pane view={v} hasModel={model !== null} />}
          </Activity>
        ))}
      </main>
      {pickerOpen && <ModelPicker />}
      {helpOpen && <ShortcutsHelp />}
    </div>
  );
}
