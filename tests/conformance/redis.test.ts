// Conformance of the Redis adapters against the machine's Redis, each test under its own key prefix.
import { afterAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisAlertStateStore } from '../../src/adapters/redis/redis-alert-state-store.js';
import { RedisCheckpointStore } from '../../src/adapters/redis/redis-checkpoint-store.js';
import { RedisLabelJoin } from '../../src/adapters/redis/redis-label-join.js';
import { RedisPaneCoordinator } from '../../src/adapters/redis/redis-pane-coordinator.js';
import { createRedisClient } from '../../src/adapters/redis/redis-connection.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from '../support/redis.js';
import { alertStateStoreConformance } from './alert-state-store.conformance.js';
import { checkpointStoreConformance } from './checkpoint-store.conformance.js';
import { labelJoinConformance } from './label-join.conformance.js';
import { paneCoordinatorConformance } from './pane-coordinator.conformance.js';

const clients: Redis[] = [];
const prefixes: string[] = [];
function client(): Redis {
  const c = createRedisClient(REDIS_URL, { name: 'driftstream-conformance' });
  clients.push(c);
  return c;
}
function prefix(): string {
  const p = uniquePrefix('conf');
  prefixes.push(p);
  return p;
}

afterAll(async () => {
  for (const p of prefixes) await deletePrefix(clients[0], p);
  await Promise.all(clients.map((c) => c.quit()));
});

checkpointStoreConformance('redis', async () => new RedisCheckpointStore(client(), { prefix: prefix() }));
alertStateStoreConformance('redis', async () => new RedisAlertStateStore(client(), { prefix: prefix() }));
labelJoinConformance('redis', async (options) => new RedisLabelJoin(client(), { ...options, keyPrefix: prefix() }));

let lastPrefix = '';
paneCoordinatorConformance(
  'redis',
  async () => {
    lastPrefix = prefix();
    return new RedisPaneCoordinator(client(), { prefix: lastPrefix, groupId: 'g' });
  },
  async () => new RedisPaneCoordinator(client(), { prefix: lastPrefix, groupId: 'g' }),
);

describe('RedisPaneCoordinator leases', () => {
  const T = 1_767_268_800_000;
  const M = 60_000;
  const report = (c: RedisPaneCoordinator, partition: number, watermark: number, state?: unknown) =>
    c.report({
      topic: 't',
      partition,
      partitionCount: 2,
      watermark,
      idle: false,
      partials: state === undefined ? [] : [{ modelId: 'm', paneStart: T, paneEnd: T + M, topic: 't', partition, state }],
    });

  it('hands an unsettled pane to the next reporter once the lease runs out, and a settled one never', async () => {
    let now = 1_000_000;
    const p = prefix();
    const a = new RedisPaneCoordinator(client(), { prefix: p, groupId: 'g', leaseMs: 10_000, now: () => now });
    const b = new RedisPaneCoordinator(client(), { prefix: p, groupId: 'g', leaseMs: 10_000, now: () => now });
    await report(a, 0, T + M, { n: 1 });
    const first = await report(a, 1, T + M, { n: 2 });
    expect(first).toHaveLength(1);
    expect(first[0].claim).toBeTruthy();
    // The evaluator dies before its results are durable: within the lease nobody else takes the pane...
    now += 5_000;
    expect(await report(b, 0, T + 2 * M)).toEqual([]);
    // ...after it, the next reporter does, with the same partials.
    now += 6_000;
    const second = await report(b, 0, T + 2 * M);
    expect(second).toHaveLength(1);
    expect(second[0].partials).toEqual([{ n: 1 }, { n: 2 }]);
    await b.settle(second);
    now += 60_000;
    expect(await report(a, 1, T + 3 * M)).toEqual([]);
  });

  it('a settle of an older version leaves a pane that changed since claimed', async () => {
    let now = 1_000_000;
    const p = prefix();
    const c = new RedisPaneCoordinator(client(), { prefix: p, groupId: 'g', leaseMs: 10_000, now: () => now });
    await report(c, 0, T + M, { n: 1 });
    const first = await report(c, 1, T + M, { n: 2 });
    const late = await report(c, 0, T + M, { n: 3 });
    expect(late[0].partials).toEqual([{ n: 3 }, { n: 2 }]);
    await c.settle(first);
    now += 11_000;
    // The late version was never settled: it is handed out again.
    const again = await report(c, 1, T + 2 * M);
    expect(again[0].partials).toEqual([{ n: 3 }, { n: 2 }]);
    await c.settle(again);
    now += 11_000;
    expect(await report(c, 1, T + 3 * M)).toEqual([]);
  });

  it('keeps a complete pane as long as its partials ask (at least the minimum), the default otherwise', async () => {
    const c = client();
    const p = prefix();
    const coordinator = new RedisPaneCoordinator(c, { prefix: p, groupId: 'g', retentionMs: 3_600_000, minRetentionMs: 60_000 });
    const partial = (paneStart: number, retainMs?: number) => ({ modelId: 'm', paneStart, paneEnd: paneStart + M, topic: 't', partition: 0, state: { paneStart }, retainMs });
    await coordinator.report({ topic: 't', partition: 0, partitionCount: 1, watermark: T + 10 * M, idle: false, partials: [partial(T, 0), partial(T + M, 600_000), partial(T + 2 * M)] });
    const ttl = async (start: number) => c.pttl(`${p}{panes:g}:pane:m:${start}:${start + M}`);
    expect(await ttl(T)).toBeGreaterThan(55_000);
    expect(await ttl(T)).toBeLessThanOrEqual(60_000);
    expect(await ttl(T + M)).toBeGreaterThan(595_000);
    expect(await ttl(T + M)).toBeLessThanOrEqual(600_000);
    expect(await ttl(T + 2 * M)).toBeGreaterThan(3_595_000);
  });

  it('refuses a partial reported by another partition and a partition count below 1', async () => {
    const c = new RedisPaneCoordinator(client(), { prefix: prefix(), groupId: 'g' });
    await expect(c.report({ topic: 't', partition: 0, partitionCount: 0, watermark: 0, idle: false, partials: [] })).rejects.toThrow(/partitionCount/);
    await expect(
      c.report({ topic: 't', partition: 0, partitionCount: 2, watermark: 0, idle: false, partials: [{ modelId: 'm', paneStart: 0, paneEnd: 1, topic: 't', partition: 1, state: 1 }] }),
    ).rejects.toThrow(/reported by/);
  });
});
