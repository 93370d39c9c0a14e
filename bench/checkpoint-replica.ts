// What replica acknowledgement (WAIT before the offset commit) costs a checkpoint: the time of one
// checkpoint save without and with the ReplicaBarrier, on a master with one replica and on a local
// Redis Cluster of 3 masters and 3 replicas, both started here (never the shared 6379).
// Run: `npm run bench:checkpoint-replica` (BENCH_SAVES saves per size, default 40).
import { createRedisConnection, type RedisClient } from '../src/adapters/redis/redis-connection.js';
import { RedisCheckpointStore } from '../src/adapters/redis/redis-checkpoint-store.js';
import { ReplicaBarrier } from '../src/adapters/redis/replica-barrier.js';
import type { PartitionCheckpoint } from '../src/ports/checkpoint-store.js';
import { startRedisCluster, startRedisServer } from '../tests/support/redis-cluster.js';

const SAVES = Number(process.env.BENCH_SAVES ?? 40);
const SIZES = [10 * 1024, 100 * 1024, 1024 * 1024];

function checkpoint(bytes: number, i: number): PartitionCheckpoint {
  return { topic: 't', partition: i % 6, nextOffset: String(i), watermark: i, state: { blob: 'x'.repeat(bytes) }, savedAt: i } as unknown as PartitionCheckpoint;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeSaves(store: RedisCheckpointStore, bytes: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SAVES; i++) {
    const cp = checkpoint(bytes, i);
    const t = performance.now();
    await store.saveCheckpoint('bench', cp);
    out.push(performance.now() - t);
  }
  return out;
}

async function compare(label: string, client: RedisClient): Promise<void> {
  const plain = new RedisCheckpointStore(client, { prefix: 'bench-plain:' });
  const acked = new RedisCheckpointStore(client, { prefix: 'bench-acked:', barrier: new ReplicaBarrier(client) });
  for (const bytes of SIZES) {
    await timeSaves(plain, bytes); // warm-up
    const a = await timeSaves(plain, bytes);
    const b = await timeSaves(acked, bytes);
    const kib = `${Math.round(bytes / 1024)} KiB`;
    console.log(
      `${label}, ${kib.padStart(9)} checkpoint: SET ${median(a).toFixed(2)} ms, SET + WAIT ${median(b).toFixed(2)} ms (median of ${SAVES}; ` +
        `+${(median(b) - median(a)).toFixed(2)} ms, x${(median(b) / median(a)).toFixed(2)}; max ${Math.max(...a).toFixed(1)} / ${Math.max(...b).toFixed(1)} ms)`,
    );
  }
}

const server = await startRedisServer({ replica: true });
const single = createRedisConnection(server.url, { mode: 'standalone' });
try {
  await compare('master + 1 replica', single);
} finally {
  single.disconnect();
  await server.stop();
}
const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
const client = createRedisConnection(cluster.url, { mode: 'cluster', nodes: cluster.seeds.slice(1) });
try {
  await compare('cluster 3+3', client);
} finally {
  client.disconnect();
  await cluster.stop();
}
