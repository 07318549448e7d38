/**
 * Optional extensions to QuantScopeApi that only the Electron shell offers (the preload adds them
 * to window.quantscope; the HTTP client leaves them out). Proposed for src-preload/api.ts.
 */

/**
 * Commands from the application menu, as strings:
 * 'open' (File > Open…: call pickModelFile), 'open-sample', `open:<path>` (File > Open Recent; the
 * path is already allowed by the main process), 'export-report', 'run', 'cancel', 'toggle-theme'.
 */
export type MenuCommand =
  'open' | 'open-sample' | 'export-report' | 'run' | 'cancel' | 'toggle-theme' | `open:${string}`;

export const MENU_COMMANDS = [
  'open',
  'open-sample',
  'export-report',
  'run',
  'cancel',
  'toggle-theme',
] as const;

export function isMenuCommand(s: unknown): s is MenuCommand {
  return (
    typeof s === 'string' &&
    ((MENU_COMMANDS as readonly string[]).includes(s) ||
      (s.startsWith('open:') && s.length > 5 && s.length < 4200))
  );
}

export interface ShellExtensions {
  /** subscribe to menu commands; returns the unsubscribe function */
  onMenuCommand?: (cb: (cmd: string) => void) => () => void;
  /**
   * The filesystem path of a dropped File (Electron's webUtils.getPathForFile). Also tells the main
   * process the user chose it, so a following openModel(path) is allowed.
   */
  pathForFile?: (file: File) => string;
}
