// The checkpoint store and the label join through Sentinel (a master, its replica and one sentinel started
// for this file): the connection finds the master by name, and checkpoints wait for the replica.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCheckpointStore } from '../../src/adapters/redis/redis-checkpoint-store.js';
import { RedisLabelJoin } from '../../src/adapters/redis/redis-label-join.js';
import { createRedisClient, createRedisConnection, type RedisClient } from '../../src/adapters/redis/redis-connection.js';
import { ReplicaBarrier } from '../../src/adapters/redis/replica-barrier.js';
import { startRedisSentinel, type LocalRedisSentinel } from '../support/redis-cluster.js';
import { uniquePrefix } from '../support/redis.js';
import { checkpointStoreConformance } from './checkpoint-store.conformance.js';
import { labelJoinConformance } from './label-join.conformance.js';

let sentinel: LocalRedisSentinel;
const clients: RedisClient[] = [];

beforeAll(async () => {
  sentinel = await startRedisSentinel();
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await sentinel?.stop();
});

function client(): RedisClient {
  // The URL's host is not used in sentinel mode: the sentinels name the master.
  const c = createRedisConnection('redis://ignored:1/0', { mode: 'sentinel', nodes: [sentinel.sentinel], sentinelMaster: sentinel.masterName });
  clients.push(c);
  return c;
}

checkpointStoreConformance('redis sentinel', async () => {
  const c = client();
  return new RedisCheckpointStore(c, { prefix: uniquePrefix('sc'), barrier: new ReplicaBarrier(c) });
});
labelJoinConformance('redis sentinel', async (options) => new RedisLabelJoin(client(), { ...options, keyPrefix: uniquePrefix('sl') }));

describe('redis sentinel', () => {
  it('reaches the master the sentinel names, and its replica acknowledges', async () => {
    const c = client();
    await c.set('probe', '1');
    expect(await new ReplicaBarrier(c).wait()).toBe(1);
    expect(await sentinel.server.info('keyspace')).toMatch(/db0:keys=/);
  });

  it('fails retriably when the node it waits on has become a replica (after a failover)', async () => {
    const replica = createRedisClient(`redis://127.0.0.1:${sentinel.server.replicaPort}`);
    clients.push(replica);
    await expect(new ReplicaBarrier(replica, { replicas: 1 }).wait()).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', retriable: true });
  });
});
