import { randomUUID } from 'node:crypto';
import { afterAll } from 'vitest';
import { Redis } from 'ioredis';
import { RedisLabelJoin } from '../../../src/adapters/redis/redis-label-join.js';
import { labelJoinConformance } from '../../unit/performance/label-join-conformance.js';

const REDIS_URL = process.env.DRIFTSTREAM_REDIS_URL ?? 'redis://127.0.0.1:6379';
const clients: Redis[] = [];
const prefixes: string[] = [];

labelJoinConformance('redis', async (options) => {
  const redis = new Redis(REDIS_URL);
  clients.push(redis);
  const keyPrefix = `dstest:labels:${randomUUID()}:`;
  prefixes.push(keyPrefix);
  return new RedisLabelJoin(redis, { ...options, keyPrefix });
});

afterAll(async () => {
  const redis = clients[0] ?? new Redis(REDIS_URL);
  for (const prefix of prefixes) {
    const stream = redis.scanStream({ match: `${prefix}*`, count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.unlink(...keys);
  }
  await Promise.all(clients.map((c) => c.quit()));
});
