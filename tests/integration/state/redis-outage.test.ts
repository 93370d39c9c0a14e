// Redis goes away under the state adapters (through a proxy the test controls; the machine's server
// keeps running): calls fail fast as retriable, readiness says so, and a retrying caller loses nothing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedisClient, redisHealthCheck } from '../../../src/adapters/redis/redis-connection.js';
import { RedisCheckpointStore } from '../../../src/adapters/redis/redis-checkpoint-store.js';
import { RedisPaneCoordinator } from '../../../src/adapters/redis/redis-pane-coordinator.js';
import { UnavailableError, isRetriable } from '../../../src/errors.js';
import type { CompletePane, PaneProgress } from '../../../src/ports/pane-coordinator.js';
import { deletePrefix, REDIS_URL, testRedis, uniquePrefix } from '../../support/redis.js';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';

let proxy: TcpProxy;
let client: Redis;
let direct: Redis;
const prefix = uniquePrefix('redisout');

beforeAll(async () => {
  proxy = await startTcpProxy({ port: Number(new URL(REDIS_URL).port || 6379) });
  client = createRedisClient(proxy.url(REDIS_URL), { commandTimeoutMs: 1_000, connectTimeoutMs: 500, maxBackoffMs: 200 });
  direct = testRedis();
  await client.ping();
});

afterEach(() => proxy.restore());

afterAll(async () => {
  client?.disconnect();
  await proxy?.close();
  await deletePrefix(direct, prefix);
  await direct.quit();
});

/** What the stream does with a retriable failure: wait and try again. */
async function retrying<T>(fn: () => Promise<T>, failures: unknown[]): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetriable(err) || attempt > 200) throw err;
      failures.push(err);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const waitFor = async (cond: () => Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('Redis adapters when Redis goes away', () => {
  it.each(['cut', 'stall'] as const)('%s: checkpoints fail fast and retriably, readiness drops, and recover', async (how) => {
    const store = new RedisCheckpointStore(client, { prefix });
    const health = redisHealthCheck(client, 500);
    const cp = { topic: 't', partition: 0, nextOffset: '10', watermark: 1, state: { n: 10 }, savedAt: 1 };
    await store.saveCheckpoint(`g-${how}`, cp);
    expect(await health.check()).toBe(true);

    if (how === 'cut') proxy.cut();
    else proxy.stall();
    const started = Date.now();
    const err = await store.saveCheckpoint(`g-${how}`, { ...cp, nextOffset: '20' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(isRetriable(err)).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
    await waitFor(async () => !(await health.check()));

    proxy.restore();
    await waitFor(() => health.check());
    await store.saveCheckpoint(`g-${how}`, { ...cp, nextOffset: '20' });
    expect((await store.loadCheckpoint(`g-${how}`, 't', 0))?.nextOffset).toBe('20');
  });

  it('pane reports retried across an outage elect every pane, with every partial, none twice once settled', async () => {
    // A reply lost after the script ran (a stalled link) leaves a claimed pane nobody evaluates: the lease hands it out again.
    const coordinator = new RedisPaneCoordinator(client, { prefix, groupId: 'panes', leaseMs: 1_500 });
    const T = 1_767_268_800_000;
    const M = 60_000;
    const failures: unknown[] = [];
    const elected: CompletePane[] = [];
    const collect = async (panes: CompletePane[]) => {
      elected.push(...panes);
      await retrying(() => coordinator.settle(panes), failures);
    };
    const reports: PaneProgress[] = [];
    for (let pane = 0; pane < 30; pane++) {
      for (let partition = 0; partition < 3; partition++) {
        reports.push({
          topic: 't',
          partition,
          partitionCount: 3,
          watermark: T + (pane + 1) * M,
          idle: false,
          partials: [{ modelId: 'm', paneStart: T + pane * M, paneEnd: T + (pane + 1) * M, topic: 't', partition, state: { pane, partition } }],
        });
      }
    }
    for (let i = 0; i < reports.length; i++) {
      if (i === 20) {
        proxy.cut();
        setTimeout(() => proxy.restore(), 700);
      }
      if (i === 50) {
        proxy.stall();
        setTimeout(() => proxy.restore(), 1_500);
      }
      await collect(await retrying(() => coordinator.report(reports[i]), failures));
    }
    // Keep reporting (as partitions do) past the lease: a pane whose election was lost comes back.
    await new Promise((r) => setTimeout(r, 1_600));
    await collect(await retrying(() => coordinator.report({ ...reports[0], partials: [] }), failures));
    expect(failures.length).toBeGreaterThan(0);
    expect(elected.map((p) => (p.paneStart - T) / M)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    for (const p of elected) expect(p.partials).toHaveLength(3);
  });
});

describe('a checkpoint whose earlier writes replicas have not confirmed', () => {
  it('is not written, and says the partition must be read again from its last checkpoint', async () => {
    const { ReplicaBarrier } = await import('../../../src/adapters/redis/replica-barrier.js');
    const { ReplicationUnconfirmedError } = await import('../../../src/errors.js');
    // The machine's Redis has no replica: asking for one makes WAIT come back unconfirmed, as after a failover.
    const barrier = new ReplicaBarrier(direct, { replicas: 1, timeoutMs: 50 });
    const store = new RedisCheckpointStore(direct, { prefix, barrier });
    const checkpoint = { topic: 't', partition: 3, nextOffset: '42', watermark: 0, state: { v: 1 }, savedAt: 1 };
    const err = await store.saveCheckpoint('unconfirmed', checkpoint).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicationUnconfirmedError);
    expect(isRetriable(err)).toBe(true);
    // The previous checkpoint (none here) stays the one to restart from.
    expect(await new RedisCheckpointStore(direct, { prefix }).loadCheckpoint('unconfirmed', 't', 3)).toBeUndefined();
  });
});
