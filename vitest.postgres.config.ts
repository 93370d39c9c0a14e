import { defineConfig } from 'vitest/config';

// The postgres adapters alone: conformance suites (and, for servers, their fault tests). No Kafka needed.
export default defineConfig({
  test: {
    include: ['tests/conformance/postgres.test.ts', 'tests/integration/state/postgres-*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
