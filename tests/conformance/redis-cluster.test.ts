// Conformance of the Redis adapters against a local Redis Cluster (3 masters, 3 replicas) started for this file,
// and what a master killed with SIGKILL leaves behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { RedisAlertStateStore } from '../../src/adapters/redis/redis-alert-state-store.js';
import { RedisCheckpointStore } from '../../src/adapters/redis/redis-checkpoint-store.js';
import { RedisLabelJoin } from '../../src/adapters/redis/redis-label-join.js';
import { RedisPaneCoordinator } from '../../src/adapters/redis/redis-pane-coordinator.js';
import { createRedisConnection, type RedisClient } from '../../src/adapters/redis/redis-connection.js';
import { ReplicaBarrier } from '../../src/adapters/redis/replica-barrier.js';
import { PerformanceCounters } from '../../src/core/performance/counters.js';
import { toInferenceRecord, toLabelRecord } from '../../src/core/performance/records.js';
import { startRedisCluster, type LocalRedisCluster } from '../support/redis-cluster.js';
import { uniquePrefix } from '../support/redis.js';
import { alertStateStoreConformance } from './alert-state-store.conformance.js';
import { checkpointStoreConformance } from './checkpoint-store.conformance.js';
import { labelJoinConformance } from './label-join.conformance.js';
import { paneCoordinatorConformance } from './pane-coordinator.conformance.js';

let cluster: LocalRedisCluster;
const clients: RedisClient[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await cluster?.stop();
});

function client(): RedisClient {
  const c = createRedisConnection(cluster.url, { mode: 'cluster', nodes: cluster.seeds.slice(1) }, { name: 'driftstream-cluster-conformance' });
  clients.push(c);
  return c;
}

checkpointStoreConformance('redis cluster', async () => {
  const c = client();
  return new RedisCheckpointStore(c, { prefix: uniquePrefix('cc'), barrier: new ReplicaBarrier(c) });
});
alertStateStoreConformance('redis cluster', async () => {
  const c = client();
  return new RedisAlertStateStore(c, { prefix: uniquePrefix('ca'), barrier: new ReplicaBarrier(c) });
});
labelJoinConformance('redis cluster', async (options) => new RedisLabelJoin(client(), { ...options, keyPrefix: uniquePrefix('cl') }));
let panePrefix = '';
paneCoordinatorConformance(
  'redis cluster',
  async () => {
    panePrefix = uniquePrefix('cp');
    return new RedisPaneCoordinator(client(), { prefix: panePrefix, groupId: 'g' });
  },
  async () => new RedisPaneCoordinator(client(), { prefix: panePrefix, groupId: 'g' }),
);

describe('redis cluster keys', () => {
  it('puts every key of a model in one slot and spreads models over the masters', async () => {
    const c = client() as Cluster;
    const prefix = uniquePrefix('slots');
    const join = new RedisLabelJoin(c, { keyPrefix: prefix });
    const spec = { kind: 'score', positiveClass: '1', decisionThreshold: 0.5 } as const;
    const models = Array.from({ length: 12 }, (_, i) => `model-${i}`);
    await join.recordInferences(models.map((m, i) => toInferenceRecord({ eventId: `e${i}`, modelId: m, timestamp: 1_700_000_000_000, prediction: null, score: 0.7 }, spec, [60_000])));
    const masters = new Set<number>();
    for (const m of models) {
      const slots = new Set<number>();
      for (const node of c.nodes('master')) {
        for (const key of await node.keys(`${prefix}{${m}}*`)) slots.add(Number(await node.cluster('KEYSLOT', key)));
      }
      expect(slots.size).toBe(1);
      masters.add(await cluster.masterOf(`${prefix}{${m}}:s`));
    }
    expect(masters.size).toBe(3);
  });

  it('acknowledges a checkpoint by a replica before it resolves', async () => {
    const c = client();
    const barrier = new ReplicaBarrier(c);
    const store = new RedisCheckpointStore(c, { prefix: uniquePrefix('ack') });
    await store.saveCheckpoint('g', { topic: 't', partition: 0, nextOffset: '5', watermark: 0, state: { n: 1 }, savedAt: 0 } as never);
    expect(await barrier.wait()).toBeGreaterThanOrEqual(1);
  });
});

describe('redis cluster failover', () => {
  const T0 = 1_700_000_040_000;
  const spec = { kind: 'score', positiveClass: '1', decisionThreshold: 0.5 } as const;

  it('keeps the join exact when a master is killed mid-run and its replica promoted', async () => {
    const c = client();
    const barrier = new ReplicaBarrier(c);
    const prefix = uniquePrefix('fail');
    const join = new RedisLabelJoin(c, { keyPrefix: prefix, chunkSize: 100 });
    const n = 4_000;
    const infs = Array.from({ length: n }, (_, i) =>
      toInferenceRecord({ eventId: `ev${i}`, modelId: 'victim', timestamp: T0 + (i % 600) * 100, prediction: null, score: (i % 97) / 97 }, spec, [60_000]),
    );
    const labs = infs.map((r, i) => toLabelRecord({ eventId: r.eventId, modelId: 'victim', timestamp: r.timestamp + 1_000, label: i % 3 === 0 ? 1 : 0 }));
    const want = new PerformanceCounters();
    infs.forEach((r, i) => want.acceptPrediction(r).acceptLabel(r, labs[i]));
    // As the detector does: a batch counts once it is acknowledged by a replica (the checkpoint's barrier);
    // a batch that failed, or whose barrier failed, is sent again (a replay).
    const sendDurably = async (send: () => Promise<unknown>) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await send();
          await barrier.wait();
          return;
        } catch (err) {
          if (attempt > 100) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    const half = n / 2;
    for (let i = 0; i < half; i += 500) await sendDurably(() => join.recordInferences(infs.slice(i, i + 500)));
    for (let i = 0; i < half; i += 500) await sendDurably(() => join.recordLabels(labs.slice(i, i + 500)));
    const killed = cluster.killMasterOf(`${prefix}{victim}:s`);
    for (let i = half; i < n; i += 500) await sendDurably(() => join.recordInferences(infs.slice(i, i + 500)));
    const port = await killed;
    for (let i = half; i < n; i += 500) await sendDurably(() => join.recordLabels(labs.slice(i, i + 500)));
    // Replays of everything after the failover change nothing.
    await sendDurably(() => join.recordLabels(labs));
    const got = await join.readCounters('victim', 60_000, T0, T0 + 60_000);
    const g = got.toJSON();
    const w = want.toJSON();
    expect(Object.keys(g).sort()).toEqual(Object.keys(w).sort());
    for (const k of Object.keys(w)) expect(g[k], k).toBeCloseTo(w[k], 6);
    expect(await join.stats('victim')).toMatchObject({ joined: n });
    await cluster.restart(port);
  }, 90_000);
});
