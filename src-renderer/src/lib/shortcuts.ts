/** The app-wide keyboard shortcuts (App's keydown listener), decided from the key, the focus and the state. */
import type { View } from '../store';

export const VIEW_KEYS: readonly View[] = ['model', 'results', 'charts', 'history', 'kernels'];

export type Shortcut =
  | { do: 'open-picker' }
  | { do: 'run' }
  | { do: 'close-help' }
  | { do: 'close-picker' }
  | { do: 'cancel-run' }
  | { do: 'toggle-help' }
  | { do: 'view'; view: View };

export interface KeyInput {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  /** a control already acted on the key (e.g. Escape closing its own list) */
  defaultPrevented?: boolean;
}

/** The focused element, as far as the shortcuts care (an HTMLElement fits). */
export interface FocusTarget {
  tagName: string;
  type?: string;
  isContentEditable?: boolean;
}

export interface ShortcutState {
  helpOpen: boolean;
  pickerOpen: boolean;
  runActive: boolean;
}

/** Input types that take no typed text: keys there are free for shortcuts (Space still toggles). */
const NOT_TEXT = new Set([
  'checkbox',
  'radio',
  'button',
  'submit',
  'reset',
  'image',
  'file',
  'color',
  'range',
]);

/**
 * Keys typed into this element belong to it: plain keys are text there (or pick an option of a
 * select), not shortcuts. Buttons, checkboxes and radios take no text.
 */
export function isTyping(t: FocusTarget | null): boolean {
  if (!t) return false;
  if (t.tagName === 'INPUT') return !NOT_TEXT.has((t.type ?? 'text').toLowerCase());
  return t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable === true;
}

export function shortcutFor(e: KeyInput, target: FocusTarget | null, s: ShortcutState): Shortcut | null {
  const mod = e.ctrlKey || e.metaKey;
  const typing = isTyping(target);
  const key = e.key.toLowerCase();
  if (mod && key === 'o') return { do: 'open-picker' };
  if ((mod && key === 'r' && !e.shiftKey) || (mod && e.key === 'Enter')) return { do: 'run' };
  if (e.key === 'Escape') {
    if (e.defaultPrevented) return null;
    // Dialogs close first, from anywhere in them. The run is cancelled only from outside text
    // fields: there Escape is the field's own key (a search field clears itself with it).
    if (s.helpOpen) return { do: 'close-help' };
    if (s.pickerOpen) return { do: 'close-picker' };
    if (s.runActive && !typing) return { do: 'cancel-run' };
    return null;
  }
  // The dialogs are modal: these keys do not act on the page behind them (? still closes the help).
  if (e.key === '?' && !typing && !s.pickerOpen) return { do: 'toggle-help' };
  if (!typing && !mod && !e.altKey && !s.pickerOpen && !s.helpOpen && /^[1-5]$/.test(e.key))
    return { do: 'view', view: VIEW_KEYS[Number(e.key) - 1] };
  return null;
}
