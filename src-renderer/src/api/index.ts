/**
 * The renderer's one way to the engine. In Electron the preload exposes window.quantscope; in a
 * browser (`quantscope serve`) an HTTP client implements the same QuantScopeApi. The UI imports
 * only getApi() and these types.
 */
import type { QuantScopeApi } from '../../../src-shared/contract/methods';
import { createHttpApi, tokenFromLocation } from './http-client';
import type { ShellExtensions } from './shell';

export type { MenuCommand, ShellExtensions } from './shell';
export { isMenuCommand } from './shell';
export { createHttpApi } from './http-client';

export type QuantScopeClient = QuantScopeApi & ShellExtensions;

declare global {
  interface Window {
    quantscope?: QuantScopeClient;
  }
}

let cached: QuantScopeClient | null = null;

export function getApi(): QuantScopeClient {
  if (cached) return cached;
  if (typeof window !== 'undefined' && window.quantscope) {
    cached = window.quantscope;
  } else {
    const search = typeof location !== 'undefined' ? location.search : '';
    cached = createHttpApi({ token: tokenFromLocation(search) });
  }
  return cached;
}
