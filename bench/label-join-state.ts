// Redis state of the label join at scale, on redis-server processes of its own (never the shared 6379):
//  1. bytes per pending prediction by INFO used_memory delta over 1,000,000 pending predictions, beside a
//     key-per-prediction layout (one SET with TTL per event) measured in the same run;
//  2. labels joined per second against one Redis, beside pipelined SETs from the same client;
//  3. the same join against a Redis Cluster of 1, 2 and 3 masters.
// Run: `npm run bench:label-join` (BENCH_PENDING, BENCH_REPEATS override sizes, BENCH_MASTERS the cluster sizes).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisConnection, type RedisClient } from '../src/adapters/redis/redis-connection.js';
import { RedisLabelJoin } from '../src/adapters/redis/redis-label-join.js';
import { DEFAULT_WINDOWS } from '../src/core/model/model-config.js';
import { paneSizesOf } from '../src/stream/label-records.js';
import { startRedisCluster, startRedisServer } from '../tests/support/redis-cluster.js';
import { drive, joinEvents } from './labels.js';

const PENDING = Number(process.env.BENCH_PENDING ?? 1_000_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const PANES = paneSizesOf(DEFAULT_WINDOWS);

const num = (x: number) => Math.round(x).toLocaleString('en-US');
const line = (name: string, value: string) => console.log(`${name.padEnd(84)} ${value}`);
const used = (info: string) => Number(/used_memory:(\d+)/.exec(info)?.[1]);
const cpu = (info: string) => Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);

const spread = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${num(s[Math.floor(s.length / 2)])}/s (min ${num(s[0])}, max ${num(s[s.length - 1])}, ${s.length} runs)`;
};

async function memoryPhase(redis: Redis, info: (s: string) => Promise<string>): Promise<void> {
  const t = Date.now() - 3_600_000;
  // Key per prediction: the old layout, an inference record of about the same content under its own key with a TTL.
  const baseN = 200_000;
  const before0 = used(await info('memory'));
  for (let i = 0; i < baseN; i += 10_000) {
    const p = redis.pipeline();
    for (let k = i; k < i + 10_000; k++) {
      p.set(`base:e:7:model-0:${randomUUID()}`, JSON.stringify([t + k, 's', 1, Math.random(), null, null, '1', PANES]), 'PX', 7 * 86_400_000);
    }
    await p.exec();
  }
  const perKey = (used(await info('memory')) - before0) / baseN;
  await redis.flushall();
  const join = new RedisLabelJoin(redis, { keyPrefix: 'bench:', chunkSize: 500 });
  const { infs, labs } = joinEvents(PENDING, 10, t);
  const before = used(await info('memory'));
  await drive(infs, 5_000, 4, (b) => join.recordInferences(b));
  const after = used(await info('memory'));
  await drive(labs, 5_000, 4, (b) => join.recordLabels(b));
  const joined = used(await info('memory'));
  line('key per prediction (SET with TTL, JSON record): bytes per pending prediction', `${(perKey).toFixed(1)} B  (INFO delta over ${num(baseN)})`);
  line(`compact join: bytes per pending prediction (INFO delta over ${num(PENDING)}, 10 models)`, `${((after - before) / PENDING).toFixed(1)} B  (target <= 48; ratio ${((after - before) / PENDING / perKey).toFixed(2)} of key per prediction)`);
  line('compact join: bytes per joined prediction (its marker until the bucket expires; counters included)', `${((joined - before) / PENDING).toFixed(1)} B`);
  const encodings = new Map<string, number>();
  for (const key of (await redis.keys('bench:{model-0}:b:*')).slice(0, 200)) {
    const e = String(await redis.object('ENCODING', key));
    encodings.set(e, (encodings.get(e) ?? 0) + 1);
  }
  line('bucket encodings (200 sampled buckets of one model)', JSON.stringify(Object.fromEntries(encodings)));
  await redis.flushall();
}

/** Redis CPU-seconds by server (one entry for a single Redis, one per master in a cluster). */
type CpuProbe = () => Promise<Map<number, number>>;

interface JoinFigures {
  rate: number;
  /** Labels per Redis CPU-second, all servers together. */
  perCpu: number;
  /** Labels per second the servers could take with a core each: the busiest one bounds it. */
  capacity: number;
}

async function joinRate(client: RedisClient, n: number, models: number, probe: CpuProbe): Promise<JoinFigures> {
  const join = new RedisLabelJoin(client, { keyPrefix: `bench:${randomUUID().slice(0, 8)}:`, chunkSize: 500 });
  const { infs, labs } = joinEvents(n, models, Date.now() - 3_600_000);
  await drive(infs, 5_000, 4, (b) => join.recordInferences(b));
  const c0 = await probe();
  const seconds = await drive(labs, 5_000, 4, (b) => join.recordLabels(b));
  const c1 = await probe();
  let joined = 0;
  for (let m = 0; m < models; m++) joined += (await join.stats(`model-${m}`)).joined;
  if (joined !== n) throw new Error(`joined ${joined} of ${n}`);
  const deltas = [...c1].map(([port, c]) => c - (c0.get(port) ?? c));
  return { rate: n / seconds, perCpu: n / deltas.reduce((a, b) => a + b, 0), capacity: n / Math.max(...deltas) };
}

async function setRate(redis: Redis, n: number): Promise<number> {
  const values = Array.from({ length: n }, () => randomUUID());
  const seconds = await drive(values, 5_000, 4, async (b) => {
    const p = redis.pipeline();
    for (const v of b) p.set(`set:${v}`, v);
    await p.exec();
  });
  return n / seconds;
}

async function single(): Promise<void> {
  const server = await startRedisServer();
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  try {
    await memoryPhase(redis, (s) => server.info(s));
    const n = Math.min(PENDING, 300_000);
    const joins: number[] = [];
    const perCpu: number[] = [];
    const sets: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      sets.push(await setRate(redis, n));
      const j = await joinRate(redis, n, 10, async () => new Map([[server.port, cpu(await server.info('cpu'))]]));
      joins.push(j.rate);
      perCpu.push(j.perCpu);
      await redis.flushall();
    }
    line('one Redis: pipelined SETs from the same client (baseline)', spread(sets));
    line(`one Redis: labels joined per second (${num(n)} pending, 10 models; target >= 100,000)`, spread(joins));
    line('one Redis: labels joined per Redis CPU-second', spread(perCpu));
    line('one Redis: join rate / pipelined SET rate', joins.map((j, i) => (j / sets[i]).toFixed(2)).join(', '));
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

async function clusterScaling(): Promise<void> {
  const n = Math.min(PENDING, 300_000);
  for (const masters of (process.env.BENCH_MASTERS ?? '1,2,3').split(',').map(Number)) {
    const cluster = await startRedisCluster({ masters, replicasPerMaster: 0 });
    // A long command timeout: on a loaded machine a queue of batches can wait seconds; that is not what is measured here.
    const client = createRedisConnection(cluster.url, { mode: 'cluster', nodes: cluster.seeds.slice(1) }, { commandTimeoutMs: 120_000 });
    const probe: CpuProbe = async () => new Map([...(await cluster.masterInfo('cpu'))].map(([port, info]) => [port, cpu(info)]));
    try {
      const runs: JoinFigures[] = [];
      for (let r = 0; r < REPEATS; r++) runs.push(await joinRate(client, n, 24, probe));
      const label = `cluster of ${masters} master(s), 24 models`;
      line(`${label}: labels joined per second (wall clock, shared machine)`, spread(runs.map((x) => x.rate)));
      line(`${label}: labels per second with a core per master (busiest master's CPU)`, spread(runs.map((x) => x.capacity)));
      line(`${label}: labels per Redis CPU-second, all masters`, spread(runs.map((x) => x.perCpu)));
    } finally {
      client.disconnect();
      await cluster.stop();
    }
  }
}

if (!process.env.BENCH_SKIP_SINGLE) await single();
await clusterScaling();
