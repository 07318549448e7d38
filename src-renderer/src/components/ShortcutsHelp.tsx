import { useApp } from '../context';
import { Modal } from './Modal';

const isMac = typeof navigator !== 'undefined' && /Mac/.test(navigator.platform);
const MOD = isMac ? '⌘' : 'Ctrl';

const SHORTCUTS: [string, string][] = [
  [`${MOD}+O`, 'Open a model'],
  [`${MOD}+R  /  Ctrl+Enter`, 'Run the selected tensors'],
  ['Esc', 'Close a dialog; else cancel the run (not from a text field)'],
  ['1  2  3  4  5', 'Model, Results, Charts, History, Kernels'],
  ['Shift+click', 'Select a range of tensors'],
  ['↑  ↓  Home  End', 'Move through the tensor list (one Tab stop)'],
  ['Space  /  Shift+Space', 'Select the focused tensor / a range up to it'],
  ['Drag on heatmap', 'Zoom into a region'],
  ['←  ↑  ↓  →  (heatmap focused)', 'Move the cursor cell, with its readout (Shift: bigger steps)'],
  ['+  −  0  (heatmap focused)', 'Zoom in around the cursor cell, back out, reset the zoom'],
  ['?', 'This help'],
];

export function ShortcutsHelp() {
  const setHelpOpen = useApp((s) => s.setHelpOpen);
  return (
    <Modal
      title="Keyboard shortcuts"
      onClose={() => setHelpOpen(false)}
      className="small"
      testId="shortcuts-help"
    >
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
    </Modal>
  );
}
