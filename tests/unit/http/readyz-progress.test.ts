import { describe, expect, it } from 'vitest';
import type { StalledPartition } from '../../../src/ports/stream-progress.js';
import { seededApp } from './fixtures.js';

describe('/readyz and the stream progress', () => {
  it('fails naming a stalled partition and a dependency the detector waits out, and recovers', async () => {
    let stalled: StalledPartition[] = [];
    let waiting: string[] = [];
    const { app } = await seededApp({
      healthChecks: [{ name: 'kafka', check: async () => true }],
      streamProgress: { stalledPartitions: () => stalled, waitingFor: () => waiting },
    });
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);

    stalled = [{ topic: 'inference-events', partition: 2, lag: 5714, stalledForMs: 130_400 }];
    waiting = ['kafka'];
    const r = await app.inject({ url: '/readyz' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({
      code: 'NOT_READY',
      down: ['kafka'],
      checks: { kafka: 'down' },
      stalled: [{ topic: 'inference-events', partition: 2, lag: 5714, stalledForMs: 130_400 }],
      message: 'not ready: kafka is down; partition inference-events/2 has made no progress for 130 s with 5714 records waiting',
    });

    stalled = [];
    waiting = [];
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
});
