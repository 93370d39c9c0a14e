import { defineConfig } from 'vitest/config';

// The memory adapters alone: conformance suites (and, for servers, their fault tests). No Kafka needed.
export default defineConfig({
  test: {
    include: ['tests/conformance/memory.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
