import { defineConfig } from 'vitest/config';

// The redis adapters alone: conformance suites (and, for servers, their fault tests). No Kafka needed.
export default defineConfig({
  test: {
    include: ['tests/conformance/redis*.test.ts', 'tests/integration/state/redis-*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
