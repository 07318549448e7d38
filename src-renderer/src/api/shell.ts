/** The shell-only API extensions live in the contract (src-preload/api.ts); re-exported for the UI. */
export { MENU_COMMANDS, isMenuCommand } from '../../../src-preload/api';
export type { MenuCommand, ShellExtensions } from '../../../src-preload/api';
