import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

/** What the renderer (and, but for electron, the preload) may not import. */
function uiImports(noElectron) {
  return {
    paths: [
      { name: 'zod', message: 'validation happens in the engine' },
      ...(noElectron ? [{ name: 'electron', message: 'only the preload talks to electron' }] : []),
    ],
    patterns: [
      {
        group: ['node:*', '**/src-main/**', '**/native/**'],
        message: 'the UI reaches the engine through the contract only',
      },
      {
        regex: 'src-shared/contract(/index|/schemas|/dispatch)?$',
        allowTypeImports: true,
        message: 'import the zod-free contract files (types, methods, limits, wire, errors, web)',
      },
    ],
  };
}

export default tseslint.config(
  { ignores: ['node_modules', 'out', 'dist', 'bin', 'samples', '.device', 'release', 'e2e/artifacts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src-renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
  // Dependencies point one way: native <- engine <- shells (src-main/app, the server, the CLI) <-
  // preload/renderer, and every one of them may import the contract (src-shared/contract), which
  // imports nothing of theirs.
  {
    // The engine must run in plain Node: only src-main/app may import electron.
    files: ['src-main/engine/**/*.ts'],
    ignores: ['src-main/engine/server/**', 'src-main/engine/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron'],
          patterns: [
            {
              group: ['**/server/*', '**/cli/*', '**/app/*'],
              message: 'the engine does not import its shells',
            },
            {
              group: ['**/src-preload/*', '**/src-renderer/*'],
              message: 'the engine does not import the UI',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/engine/server/**/*.ts', 'src-main/engine/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron'],
          patterns: [
            {
              group: ['**/app/*', '**/src-preload/*', '**/src-renderer/*'],
              message: 'shells import the engine and the contract only',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/app/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/engine/server/*', '**/engine/cli/*'],
              message: 'the Electron shell does not import the other shells',
            },
            {
              group: ['**/src-preload/*', '**/src-renderer/*'],
              message: 'the main process does not import the UI',
            },
          ],
        },
      ],
    },
  },
  {
    // native/ is declarations and error mapping: it imports no engine code.
    files: ['native/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron'],
          patterns: [{ group: ['**/src-*/**', '**/src-*/*'], message: 'native/ imports nothing above it' }],
        },
      ],
    },
  },
  {
    // The contract is plain data and functions: no node, no electron, nothing of the code that uses it.
    files: ['src-shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron'],
          patterns: [
            { group: ['node:*'], message: 'the contract runs in the renderer too' },
            {
              group: ['**/src-main/**', '**/src-preload/**', '**/src-renderer/**', '**/native/**'],
              message: 'the contract imports nothing above it',
            },
          ],
        },
      ],
    },
  },
  {
    // The renderer and the preload take the contract's zod-free files; types may come from anywhere in it.
    files: ['src-renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', uiImports(true)],
    },
  },
  {
    files: ['src-preload/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', uiImports(false)] },
  },
);
