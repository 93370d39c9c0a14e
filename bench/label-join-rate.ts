// The label join's rate against one Redis of its own (never the shared 6379), with where the CPU goes:
// labels per second of wall clock, per Redis CPU-second, per client CPU-second and per (client + Redis)
// CPU-second. With BENCH_BEFORE=<another checkout of this project> the same labels also run, interleaved
// round by round on the same server, through that checkout's RedisLabelJoin, so a change is measured
// against its baseline in one run on a machine whose load moves.
// Run: `npm run bench:label-join-rate` (BENCH_LABELS, BENCH_REPEATS, BENCH_MODELS, BENCH_BATCH change the sizes).
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { RedisLabelJoin } from '../src/adapters/redis/redis-label-join.js';
import type { LabelJoin } from '../src/ports/label-join.js';
import type { InferenceRecord, LabelRecord } from '../src/core/performance/records.js';
import { startRedisServer } from '../tests/support/redis-cluster.js';
import { drive, joinEvents } from './labels.js';

const LABELS = Number(process.env.BENCH_LABELS ?? 200_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const MODELS = Number(process.env.BENCH_MODELS ?? 10);
const BATCH = Number(process.env.BENCH_BATCH ?? 5_000);

type JoinFactory = (redis: Redis, keyPrefix: string) => LabelJoin;
interface Variant {
  name: string;
  make: JoinFactory;
}

const num = (x: number) => Math.round(x).toLocaleString('en-US');
const cpuOf = (info: string) => Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);

interface Run {
  wall: number;
  perRedisCpu: number;
  perClientCpu: number;
  perCpu: number;
}

async function once(variant: Variant, redis: Redis, info: () => Promise<string>, infs: InferenceRecord[], labs: LabelRecord[]): Promise<Run> {
  const join = variant.make(redis, `rate:${randomUUID().slice(0, 8)}:`);
  await drive(infs, BATCH, 4, (b) => join.recordInferences(b));
  const r0 = cpuOf(await info());
  const c0 = process.cpuUsage();
  const seconds = await drive(labs, BATCH, 4, (b) => join.recordLabels(b));
  const c = process.cpuUsage(c0);
  const redisCpu = cpuOf(await info()) - r0;
  const clientCpu = (c.user + c.system) / 1e6;
  let joined = 0;
  for (let m = 0; m < MODELS; m++) joined += (await join.stats(`model-${m}`)).joined;
  if (joined !== labs.length) throw new Error(`${variant.name}: joined ${joined} of ${labs.length}`);
  return { wall: labs.length / seconds, perRedisCpu: labs.length / redisCpu, perClientCpu: labs.length / clientCpu, perCpu: labs.length / (redisCpu + clientCpu) };
}

const spread = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${num(s[Math.floor(s.length / 2)])}/s (min ${num(s[0])}, max ${num(s[s.length - 1])})`;
};

async function variants(): Promise<Variant[]> {
  const out: Variant[] = [{ name: 'this checkout', make: (redis, keyPrefix) => new RedisLabelJoin(redis, { keyPrefix, chunkSize: 500 }) }];
  const before = process.env.BENCH_BEFORE;
  if (before) {
    const mod = (await import(pathToFileURL(resolve(before, 'src/adapters/redis/redis-label-join.ts')).href)) as { RedisLabelJoin: typeof RedisLabelJoin };
    out.unshift({ name: `before (${before})`, make: (redis, keyPrefix) => new mod.RedisLabelJoin(redis, { keyPrefix, chunkSize: 500 }) });
  }
  return out;
}

const server = await startRedisServer();
// One client per variant: each defines its scripts under the same command names.
const list = await variants();
const clients = list.map(() => new Redis(server.url, { maxRetriesPerRequest: 1 }));
try {
  const runs = list.map(() => [] as Run[]);
  for (let r = 0; r < REPEATS; r++) {
    const { infs, labs } = joinEvents(LABELS, MODELS, Date.now() - 3_600_000);
    // Alternate which variant goes first, so neither always meets the warmer (or busier) machine.
    const order = list.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) runs[i].push(await once(list[i], clients[i], () => server.info('cpu'), infs, labs));
    await clients[0].flushall();
  }
  console.log(`${num(LABELS)} labels per run into ${MODELS} models (${num(LABELS)} pending), batches of ${num(BATCH)}, 4 in flight, ${REPEATS} runs; median (min, max)`);
  list.forEach((v, i) => {
    const rs = runs[i];
    console.log(`\n${v.name}`);
    console.log(`  labels per second (wall clock)                 ${spread(rs.map((x) => x.wall))}`);
    console.log(`  labels per Redis CPU-second                    ${spread(rs.map((x) => x.perRedisCpu))}`);
    console.log(`  labels per client CPU-second                   ${spread(rs.map((x) => x.perClientCpu))}`);
    console.log(`  labels per (client + Redis) CPU-second         ${spread(rs.map((x) => x.perCpu))}`);
  });
} finally {
  for (const c of clients) c.disconnect();
  await server.stop();
}
