import { defineConfig } from 'vitest/config';

// Unit tests only: no servers needed, so no global setup.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tests/unit/**/*.test.ts'],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
