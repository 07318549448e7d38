import { describe, it, expect } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { buildMenuTemplate, type MenuInputs } from '../../src-main/app/menu';

function setup(over: Partial<MenuInputs> = {}) {
  const sent: string[] = [];
  const calls: string[] = [];
  const inputs: MenuInputs = {
    isMac: false,
    isDev: false,
    recent: ['/m/a.gguf', '/m/b&c.gguf'],
    hasSample: true,
    send: (c) => sent.push(c),
    clearRecent: () => calls.push('clear'),
    about: () => calls.push('about'),
    quit: () => calls.push('quit'),
    toggleDevTools: () => calls.push('devtools'),
    reload: () => calls.push('reload'),
    ...over,
  };
  return { template: buildMenuTemplate(inputs), sent, calls };
}

const sub = (item: MenuItemConstructorOptions) => item.submenu as MenuItemConstructorOptions[];
const find = (items: MenuItemConstructorOptions[], label: string) => {
  const it = items.find((i) => i.label?.replace(/&(?!&)/g, '') === label);
  if (!it) throw new Error(`no menu item ${label}`);
  return it;
};
const click = (item: MenuItemConstructorOptions) => (item.click as () => void)();

describe('application menu', () => {
  it('has File, Run, View and Help with the commands the renderer understands', () => {
    const { template, sent, calls } = setup();
    expect(template.map((t) => t.label)).toEqual(['&File', '&Edit', '&Run', '&View', '&Help']);
    const file = sub(template[0]);
    const open = find(file, 'Open…');
    expect(open.accelerator).toBe('CmdOrCtrl+O');
    click(open);
    click(find(file, 'Open Sample'));
    const recent = sub(find(file, 'Open Recent'));
    expect(recent[1].label).toBe('&2 b&&c.gguf');
    click(recent[0]);
    click(find(recent, 'Clear Recent'));
    click(find(file, 'Export Report…'));
    click(find(file, 'Quit'));
    const run = sub(template[2]);
    expect(find(run, 'Run').accelerator).toBe('CmdOrCtrl+R');
    expect(find(run, 'Cancel').accelerator).toBe('Escape');
    expect(find(run, 'Cancel').registerAccelerator).toBe(false);
    click(find(run, 'Run'));
    click(find(run, 'Cancel'));
    click(find(sub(template[3]), 'Toggle Theme'));
    click(find(sub(template[4]), 'About QuantScope'));
    expect(sent).toEqual([
      'open',
      'open-sample',
      'open:/m/a.gguf',
      'export-report',
      'run',
      'cancel',
      'toggle-theme',
    ]);
    expect(calls).toEqual(['clear', 'quit', 'about']);
  });

  it('offers devtools only in development, and handles no recent files or sample', () => {
    const prod = setup();
    expect(sub(prod.template[3]).some((i) => /Developer Tools/.test(i.label ?? ''))).toBe(false);
    const dev = setup({ isDev: true, recent: [], hasSample: false });
    expect(sub(dev.template[3]).some((i) => /Developer Tools/.test(i.label ?? ''))).toBe(true);
    const file = sub(dev.template[0]);
    expect(find(file, 'Open Sample').enabled).toBe(false);
    expect(sub(find(file, 'Open Recent'))).toEqual([{ label: 'No recent files', enabled: false }]);
    expect(setup({ isMac: true }).template[0]).toEqual({ role: 'appMenu' });
  });
});
