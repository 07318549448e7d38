/**
 * The app:// scheme that serves the built renderer in the desktop app (Electron's checklist: prefer
 * a custom protocol to file://). Path resolution is a plain function so it is tested without Electron.
 */
import path from 'node:path';
import { isInsideDir } from '../engine/paths';

export const APP_SCHEME = 'app';
export const APP_HOST = 'quantscope';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** The file under rendererDir that an app:// URL names, or null (wrong host, traversal, bad encoding). */
export function resolveAppFile(rendererDir: string, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host.toLowerCase() !== APP_HOST) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (rel.includes('\0')) return null;
  if (rel === '/' || rel === '') rel = '/index.html';
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, `.${rel}`);
  return isInsideDir(root, file) ? file : null;
}
