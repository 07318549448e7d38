/** The shell-only API extensions live in the contract (src-shared/contract/types.ts); re-exported for the UI. */
export { MENU_COMMANDS, isMenuCommand } from '../../../src-shared/contract/types';
export type { MenuCommand, ShellExtensions } from '../../../src-shared/contract/types';
