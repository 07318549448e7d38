import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src-main/**/*.test.ts', 'src-renderer/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // runs made by tests are not saved into the user's records folder (tests that check recording pass their own store)
    env: { QS_NO_RECORD: '1' },
    reporters: ['default'],
  },
});
