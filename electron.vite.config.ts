// electron-vite: main (app + engine utility process), preload (CJS, sandboxed) and renderer, into out/.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { buildCommit } from './scripts/build-info.mjs';

const pkg = JSON.parse(readFileSync(resolve(__dirname, 'package.json'), 'utf8')) as { version: string };

/**
 * The dev server needs React refresh's inline preamble, which the strict CSP <meta> in index.html
 * forbids; in `electron-vite dev` only, drop the meta (main.ts sends a dev CSP header instead).
 * Builds keep the meta untouched.
 */
const devCspPlugin: Plugin = {
  name: 'quantscope:dev-csp',
  apply: 'serve',
  transformIndexHtml(html) {
    return html.replace(/<meta\s+http-equiv="Content-Security-Policy"[^>]*>/i, '');
  },
};

export default defineConfig({
  main: {
    define: {
      __QS_VERSION__: JSON.stringify(pkg.version),
      __QS_COMMIT__: JSON.stringify(buildCommit(__dirname)),
      __QS_BUNDLED__: 'true',
    },
    build: {
      outDir: 'out/main',
      // Bundle every pure-JS dependency; only the native koffi addon stays external.
      externalizeDeps: false,
      rolldownOptions: {
        input: {
          index: resolve(__dirname, 'src-main/app/main.ts'),
          'engine-host': resolve(__dirname, 'src-main/app/engine-host.ts'),
        },
        external: ['koffi'],
        output: { format: 'cjs', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload can require only 'electron': one self-contained CommonJS file.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve(__dirname, 'src-preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].js' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    base: './',
    plugins: [react(), devCspPlugin],
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      emptyOutDir: true,
      minify: true,
      rolldownOptions: {
        input: resolve(__dirname, 'src-renderer/index.html'),
      },
    },
  },
});
