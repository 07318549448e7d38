// Playwright: the UI specs (e2e/*.spec.ts) against `quantscope serve` in Chromium (browser project;
// `npm run e2e` picks the binary, see e2e/find-chromium.mjs, and passes it as QS_CHROMIUM), and the same specs in the desktop app when QS_E2E_ELECTRON=1 and Electron is installed.
import { defineConfig } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const electronDir = path.join(__dirname, 'node_modules', 'electron');
const electronInstalled =
  existsSync(path.join(electronDir, 'path.txt')) &&
  existsSync(path.join(electronDir, 'dist', readFileSync(path.join(electronDir, 'path.txt'), 'utf8').trim()));
const withElectron = process.env.QS_E2E_ELECTRON === '1' && electronInstalled;

export default defineConfig({
  testDir: 'e2e',
  testMatch: '*.spec.ts',
  outputDir: 'e2e/artifacts/test-results',
  globalSetup: './e2e/fixtures/global-setup.ts',
  // One shared server and two shared CPU cores: run specs one at a time.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  retries: 0,
  reporter: [['list']],
  use: {
    viewport: { width: 1440, height: 900 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'browser',
      use: {
        browserName: 'chromium',
        headless: true,
        launchOptions: {
          executablePath: process.env.QS_CHROMIUM ?? '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
          ],
        },
      },
    },
    ...(withElectron
      ? [
          {
            name: 'electron',
            // The specs open the app through baseURL; the desktop app is already there.
            use: { baseURL: '' },
          },
        ]
      : []),
  ],
});
