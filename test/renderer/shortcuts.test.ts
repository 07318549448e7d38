// The app-wide keyboard shortcuts: what each key does, given the focused element and the app's state.
import { describe, expect, it } from 'vitest';
import { isTyping, shortcutFor, type FocusTarget, type KeyInput } from '../../src-renderer/src/lib/shortcuts';

const key = (k: string, mods: Partial<KeyInput> = {}): KeyInput => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
});
const BODY: FocusTarget = { tagName: 'BODY' };
const BUTTON: FocusTarget = { tagName: 'BUTTON' };
const SEARCH: FocusTarget = { tagName: 'INPUT', type: 'search' };
const NUMBER: FocusTarget = { tagName: 'INPUT', type: 'number' };
const TEXT: FocusTarget = { tagName: 'INPUT', type: 'text' };
const IDLE = { helpOpen: false, pickerOpen: false, runActive: false };
const RUNNING = { ...IDLE, runActive: true };

describe('Escape', () => {
  it('cancels a running run when the focus is outside text fields', () => {
    expect(shortcutFor(key('Escape'), BODY, RUNNING)).toEqual({ do: 'cancel-run' });
    expect(shortcutFor(key('Escape'), BUTTON, RUNNING)).toEqual({ do: 'cancel-run' });
    expect(shortcutFor(key('Escape'), null, RUNNING)).toEqual({ do: 'cancel-run' });
  });

  it('is left to a text field that has the focus: the run goes on', () => {
    for (const t of [
      SEARCH,
      NUMBER,
      TEXT,
      { tagName: 'TEXTAREA' },
      { tagName: 'DIV', isContentEditable: true },
    ])
      expect(shortcutFor(key('Escape'), t, RUNNING)).toBeNull();
  });

  it('closes an open dialog first, from anywhere, and then cancels nothing', () => {
    expect(shortcutFor(key('Escape'), BODY, { ...RUNNING, helpOpen: true })).toEqual({ do: 'close-help' });
    expect(shortcutFor(key('Escape'), TEXT, { ...RUNNING, pickerOpen: true })).toEqual({
      do: 'close-picker',
    });
    expect(shortcutFor(key('Escape'), BODY, { ...IDLE, helpOpen: true, pickerOpen: true })).toEqual({
      do: 'close-help',
    });
  });

  it('does nothing when a control already used it, or when nothing runs', () => {
    expect(shortcutFor(key('Escape', { defaultPrevented: true }), BODY, RUNNING)).toBeNull();
    expect(shortcutFor(key('Escape'), BODY, IDLE)).toBeNull();
  });
});

describe('the other shortcuts', () => {
  it('open, run, help and views', () => {
    expect(shortcutFor(key('o', { ctrlKey: true }), TEXT, IDLE)).toEqual({ do: 'open-picker' });
    expect(shortcutFor(key('O', { metaKey: true }), BODY, IDLE)).toEqual({ do: 'open-picker' });
    expect(shortcutFor(key('r', { ctrlKey: true }), BODY, IDLE)).toEqual({ do: 'run' });
    expect(shortcutFor(key('R', { ctrlKey: true, shiftKey: true }), BODY, IDLE)).toBeNull();
    expect(shortcutFor(key('Enter', { ctrlKey: true }), SEARCH, IDLE)).toEqual({ do: 'run' });
    expect(shortcutFor(key('?'), BODY, IDLE)).toEqual({ do: 'toggle-help' });
    expect(shortcutFor(key('2'), BODY, IDLE)).toEqual({ do: 'view', view: 'results' });
    expect(shortcutFor(key('5'), BUTTON, IDLE)).toEqual({ do: 'view', view: 'kernels' });
    expect(shortcutFor(key('6'), BODY, IDLE)).toBeNull();
    expect(shortcutFor(key('2', { ctrlKey: true }), BODY, IDLE)).toBeNull();
  });

  it('digits and ? typed into a text field are text', () => {
    expect(shortcutFor(key('2'), NUMBER, IDLE)).toBeNull();
    expect(shortcutFor(key('?'), SEARCH, IDLE)).toBeNull();
    expect(shortcutFor(key('3'), { tagName: 'SELECT' }, IDLE)).toBeNull();
  });
});

describe('controls that take no text', () => {
  const CHECKBOX: FocusTarget = { tagName: 'INPUT', type: 'checkbox' };
  const RADIO: FocusTarget = { tagName: 'INPUT', type: 'radio' };

  it('are not typing targets; text inputs (any case of type, or none) are', () => {
    for (const t of [
      CHECKBOX,
      RADIO,
      BUTTON,
      { tagName: 'INPUT', type: 'button' },
      { tagName: 'INPUT', type: 'range' },
    ])
      expect(isTyping(t)).toBe(false);
    for (const t of [TEXT, SEARCH, NUMBER, { tagName: 'INPUT' }, { tagName: 'INPUT', type: 'Password' }])
      expect(isTyping(t)).toBe(true);
  });

  it('leave the view digits, ? and Escape to the shortcuts', () => {
    expect(shortcutFor(key('2'), CHECKBOX, IDLE)).toEqual({ do: 'view', view: 'results' });
    expect(shortcutFor(key('?'), CHECKBOX, IDLE)).toEqual({ do: 'toggle-help' });
    expect(shortcutFor(key('4'), RADIO, IDLE)).toEqual({ do: 'view', view: 'history' });
    expect(shortcutFor(key('Escape'), CHECKBOX, RUNNING)).toEqual({ do: 'cancel-run' });
  });
});

describe('under a modal dialog', () => {
  it('the view digits do nothing, and ? opens no help over the picker', () => {
    expect(shortcutFor(key('2'), BUTTON, { ...IDLE, pickerOpen: true })).toBeNull();
    expect(shortcutFor(key('2'), BUTTON, { ...IDLE, helpOpen: true })).toBeNull();
    expect(shortcutFor(key('?'), BUTTON, { ...IDLE, pickerOpen: true })).toBeNull();
    expect(shortcutFor(key('?'), BUTTON, { ...IDLE, helpOpen: true })).toEqual({ do: 'toggle-help' });
  });
});
