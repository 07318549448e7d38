import { useApp } from '../context';

const isMac = typeof navigator !== 'undefined' && /Mac/.test(navigator.platform);
const MOD = isMac ? '⌘' : 'Ctrl';

const SHORTCUTS: [string, string][] = [
  [`${MOD}+O`, 'Open a model'],
  [`${MOD}+R  /  Ctrl+Enter`, 'Run the selected tensors'],
  ['Esc', 'Close a dialog; else cancel the run (not from a text field)'],
  ['1  2  3  4  5', 'Model, Results, Charts, History, Kernels'],
  ['Shift+click', 'Select a range of tensors'],
  ['Drag on heatmap', 'Zoom into a region'],
  ['?', 'This help'],
];

export function ShortcutsHelp() {
  const setHelpOpen = useApp((s) => s.setHelpOpen);
  return (
    <div className="overlay" onClick={() => setHelpOpen(false)} data-testid="shortcuts-help">
      <div
        className="dialog small"
        role="dialog"
        aria-label="Keyboard shortcuts"
        onClick={(e) => e.stopPropagation()}
      >
        <div className="dialog-head">
          <h2>Keyboard shortcuts</h2>
          <button className="btn icon" onClick={() => setHelpOpen(false)} aria-label="Close">
            ×
          </button>
        </div>
        <table className="kv">
          <tbody>
            {SHORTCUTS.map(([k, v]) => (
              <tr key={k}>
                <td>
                  <kbd>{k}</kbd>
                </td>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
