// Two API replicas against the real Redis: the write rate limit is one budget per client across both.
import { afterAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedisClient } from '../../../src/adapters/redis/redis-connection.js';
import { KEYS, seededApp } from '../../unit/http/fixtures.js';
import { REDIS_URL, deletePrefix, testRedis, uniquePrefix } from '../../support/redis.js';

const prefix = uniquePrefix('ratelimit');
const clients: Redis[] = [];

afterAll(async () => {
  for (const c of clients) c.disconnect();
  const direct = testRedis();
  await deletePrefix(direct, prefix).finally(() => direct.quit());
});

async function replica() {
  const redis = createRedisClient(REDIS_URL, { commandTimeoutMs: 1_000 });
  clients.push(redis);
  return seededApp({ rateLimitStore: { redis, keyPrefix: prefix } }, { DRIFTSTREAM_RATE_LIMIT_WRITES: '4' });
}

const put = (key: string, model: string) => ({ method: 'PUT' as const, url: `/api/v1/models/${model}`, headers: { 'x-api-key': key }, payload: { features: { a: 'numeric' } } });

describe('write rate limit across replicas (real Redis)', () => {
  it('shares one budget per client between two app instances; other clients keep theirs', async () => {
    const [a, b] = [await replica(), await replica()];
    const statuses: number[] = [];
    // Four writes of one key, alternating between the replicas, use its budget up on both.
    for (let i = 0; i < 4; i++) statuses.push((await (i % 2 === 0 ? a : b).app.inject(put(KEYS.editor, `m${i}`))).statusCode);
    expect(statuses).toEqual([201, 201, 201, 201]);
    for (const r of [a, b]) {
      const refused = await r.app.inject(put(KEYS.editor, 'm9'));
      expect(refused.statusCode).toBe(429);
      expect(refused.json().code).toBe('RATE_LIMITED');
    }
    // Another key is counted apart, on either replica.
    expect((await b.app.inject(put(KEYS.admin, 'm5'))).statusCode).toBe(201);
    // The counters are in Redis under the configured prefix.
    const direct = testRedis();
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await direct.scan(cursor, 'MATCH', `${prefix}ratelimit:*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      // One key per client, ending in the client (the plugin puts its own part between).
      expect(keys.map((k) => k.split(':').pop()).sort()).toEqual(['api-key#0', 'api-key#1']);
    } finally {
      await direct.quit();
    }
  });

  it('lets writes through while its Redis does not answer, rather than refusing them', async () => {
    const redis = createRedisClient('redis://127.0.0.1:1', { commandTimeoutMs: 200, connectTimeoutMs: 200, maxBackoffMs: 200 });
    clients.push(redis);
    const { app } = await seededApp({ rateLimitStore: { redis, keyPrefix: prefix } }, { DRIFTSTREAM_RATE_LIMIT_WRITES: '1' });
    for (let i = 0; i < 3; i++) expect((await app.inject(put(KEYS.editor, `d${i}`))).statusCode).toBe(201);
  });
});
