// Server-side rendering of app components against a store, for tests that read what a view shows.
import { createElement, type ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { StoreProvider } from '../../src-renderer/src/context';
import type { AppStore } from '../../src-renderer/src/store';

/** The markup of `el` with `store` as the app's store, in its current state. */
export function renderWithStore(store: AppStore, el: ReactElement): string {
  // server rendering reads the store's initial state (zustand's server snapshot): make it the current one
  store.getInitialState = store.getState;
  return renderToStaticMarkup(createElement(StoreProvider, { store, children: el }));
}

/** The text of the first element with this data-testid (tags removed), or null when there is none. */
export function textOf(html: string, testId: string): string | null {
  const at = html.indexOf(`data-testid="${testId}"`);
  if (at < 0) return null;
  const open = html.lastIndexOf('<', at);
  const tag = /^<([a-z0-9]+)/i.exec(html.slice(open))![1];
  // the element's end: count nested elements of the same tag
  let depth = 0;
  const re = new RegExp(`<(/?)${tag}\\b[^>]*?(/?)>`, 'g');
  re.lastIndex = open;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    if (m[2]) continue;
    depth += m[1] ? -1 : 1;
    if (depth === 0) return decode(html.slice(open, m.index + m[0].length).replace(/<[^>]+>/g, ''));
  }
  return decode(html.slice(open).replace(/<[^>]+>/g, ''));
}

function decode(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&amp;/g, '&');
}
