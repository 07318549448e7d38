/**
 * The application menu as a template (built from plain inputs, so it is tested without Electron).
 * Menu items send commands to the renderer; Ctrl+O, Ctrl+R and Esc are shown but not registered as
 * global accelerators, because the renderer already handles those keys itself (Esc must still
 * close its dialogs before it cancels a run, which a registered accelerator would prevent).
 */
import path from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../../src-shared/contract';

export interface MenuInputs {
  isMac: boolean;
  isDev: boolean;
  recent: string[];
  hasSample: boolean;
  send(cmd: MenuCommand): void;
  clearRecent(): void;
  about(): void;
  quit(): void;
  toggleDevTools(): void;
  reload(): void;
}

export function buildMenuTemplate(o: MenuInputs): MenuItemConstructorOptions[] {
  const recentItems: MenuItemConstructorOptions[] =
    o.recent.length === 0
      ? [{ label: 'No recent files', enabled: false }]
      : [
          ...o.recent.map((p, i): MenuItemConstructorOptions => ({
            label: `${i < 9 ? `&${i + 1} ` : ''}${path.basename(p).replace(/&/g, '&&')}`,
            sublabel: p,
            toolTip: p,
            click: () => o.send(`open:${p}`),
          })),
          { type: 'separator' },
          { label: 'Clear Recent', click: () => o.clearRecent() },
        ];

  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      {
        label: '&Open…',
        accelerator: 'CmdOrCtrl+O',
        registerAccelerator: false,
        click: () => o.send('open'),
      },
      { label: 'Open &Sample', enabled: o.hasSample, click: () => o.send('open-sample') },
      { label: 'Open &Recent', submenu: recentItems },
      { type: 'separator' },
      { label: '&Export Report…', accelerator: 'CmdOrCtrl+E', click: () => o.send('export-report') },
      { type: 'separator' },
      { label: '&Quit', accelerator: o.isMac ? 'Cmd+Q' : 'Ctrl+Q', click: () => o.quit() },
    ],
  };
  const run: MenuItemConstructorOptions = {
    label: '&Run',
    submenu: [
      { label: '&Run', accelerator: 'CmdOrCtrl+R', registerAccelerator: false, click: () => o.send('run') },
      { label: '&Cancel', accelerator: 'Escape', registerAccelerator: false, click: () => o.send('cancel') },
    ],
  };
  const viewItems: MenuItemConstructorOptions[] = [
    { label: 'Toggle &Theme', accelerator: 'CmdOrCtrl+Shift+T', click: () => o.send('toggle-theme') },
  ];
  if (o.isDev)
    viewItems.push(
      { type: 'separator' },
      { label: 'Reload', accelerator: 'CmdOrCtrl+Shift+R', click: () => o.reload() },
      { label: 'Toggle Developer Tools', accelerator: 'CmdOrCtrl+Shift+I', click: () => o.toggleDevTools() },
    );
  const edit: MenuItemConstructorOptions = {
    label: '&Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  };
  const help: MenuItemConstructorOptions = {
    label: '&Help',
    submenu: [{ label: '&About QuantScope', click: () => o.about() }],
  };
  const template: MenuItemConstructorOptions[] = [
    file,
    edit,
    run,
    { label: '&View', submenu: viewItems },
    help,
  ];
  if (o.isMac) template.unshift({ role: 'appMenu' });
  return template;
}
