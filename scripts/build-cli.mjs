// Bundles the engine CLI into one file, dist/quantscope.cjs, with every pure-JS dependency inside it.
// Only koffi (a native addon) stays outside, so dist/ plus koffi is all the GPU machine needs.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { buildCommit } from './build-info.mjs';

// `import src from './x.cu?raw'` (the Vite convention, used so vitest and electron-vite read the
// kernel sources the same way) becomes a string in the bundle.
const rawPlugin = {
  name: 'raw',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (args) => ({
      path: path.resolve(args.resolveDir, args.path.replace(/\?raw$/, '')),
      namespace: 'raw',
    }));
    b.onLoad({ filter: /.*/, namespace: 'raw' }, async (args) => ({
      contents: await readFile(args.path, 'utf8'),
      loader: 'text',
    }));
  },
};

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['src-main/engine/cli/main.ts'],
  outfile: 'dist/quantscope.cjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  external: ['koffi', 'electron'],
  define: {
    __QS_VERSION__: JSON.stringify(pkg.version),
    __QS_COMMIT__: JSON.stringify(buildCommit(path.resolve(import.meta.dirname, '..'))),
    __QS_BUNDLED__: 'true',
  },
  plugins: [rawPlugin],
  logLevel: 'warning',
  legalComments: 'none',
});
console.log('built dist/quantscope.cjs');
