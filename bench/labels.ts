// Label joins through Redis: joins per second on one process (pipelined Lua
// batches) and Redis memory per pending prediction and per joined marker.
// Run alone: `npx tsx bench/labels.ts` (DRIFTSTREAM_REDIS_URL, default redis://127.0.0.1:6379).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisLabelJoin } from '../src/adapters/redis/redis-label-join.js';
import { toInferenceRecord, toLabelRecord, type InferenceRecord, type LabelRecord } from '../src/core/performance/records.js';
import type { BenchLine } from './stats.js';
import { DEFAULT_WINDOWS } from '../src/core/model/model-config.js';
import { paneSizesOf } from '../src/stream/label-records.js';

const SPEC = { kind: 'score', positiveClass: '1', decisionThreshold: 0.5 } as const;
// The default windows (1m, and 1h sliding by 5m) keep their counters in 1-minute panes.
const PANES = paneSizesOf(DEFAULT_WINDOWS);

function usedMemory(info: string): number {
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
}

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  const stream = redis.scanStream({ match: `${prefix}*`, count: 5000 });
  for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.unlink(...keys);
}

/** `n` inferences of score models `model-0` .. `model-<models-1>`, ten per millisecond from `t`, and their labels 30 s later. */
export function joinEvents(n: number, models: number, t: number): { infs: InferenceRecord[]; labs: LabelRecord[] } {
  const infs: InferenceRecord[] = [];
  const labs: LabelRecord[] = [];
  for (let i = 0; i < n; i++) {
    const eventId = randomUUID();
    const modelId = `model-${i % models}`;
    const score = Math.random();
    infs.push(toInferenceRecord({ eventId, modelId, timestamp: t + Math.floor(i / 10), prediction: null, score }, SPEC, PANES));
    labs.push(toLabelRecord({ eventId, modelId, timestamp: t + Math.floor(i / 10) + 30_000, label: Math.random() < score ? 1 : 0 }));
  }
  return { infs, labs };
}

/** Sends `items` in batches of `batch`, keeping `inFlight` batches outstanding; returns seconds. */
export async function drive<T>(items: T[], batch: number, inFlight: number, send: (b: T[]) => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const b = items.slice(next, next + batch);
      next += batch;
      await send(b);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function benchLabels(n = 200_000): Promise<BenchLine[]> {
  const url = process.env.DRIFTSTREAM_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const prefix = `dsbench:labels:${randomUUID()}:`;
  const join = new RedisLabelJoin(redis, { keyPrefix: prefix, chunkSize: 500 });
  const t = Date.now() - 3_600_000;
  const infs: InferenceRecord[] = [];
  const labs: LabelRecord[] = [];
  for (let i = 0; i < n; i++) {
    const eventId = randomUUID();
    const score = Math.random();
    infs.push(toInferenceRecord({ eventId, modelId: 'bench-model', timestamp: t + i, prediction: null, score }, SPEC, PANES));
    labs.push(toLabelRecord({ eventId, modelId: 'bench-model', timestamp: t + i + 30_000, label: Math.random() < score ? 1 : 0 }));
  }
  try {
    // Warm up: load the scripts, reach steady state.
    await join.recordInferences(infs.slice(0, 2000));
    await join.recordLabels(labs.slice(0, 2000));
    const rest = infs.slice(2000);
    const memBefore = usedMemory(await redis.info('memory'));
    const tInf = await drive(rest, 5000, 4, (b) => join.recordInferences(b));
    const memPending = usedMemory(await redis.info('memory'));
    const tLab = await drive(labs.slice(2000), 5000, 4, (b) => join.recordLabels(b));
    const memJoined = usedMemory(await redis.info('memory'));
    const stats = await join.stats('bench-model');
    if (stats.joined !== n) throw new Error(`joined ${stats.joined} of ${n}`);
    // Label first, inference second: the other order's join rate.
    const prefix2 = `${prefix}rev:`;
    const join2 = new RedisLabelJoin(redis, { keyPrefix: prefix2, chunkSize: 500 });
    const half = Math.min(n, 100_000);
    await drive(labs.slice(0, half), 5000, 4, (b) => join2.recordLabels(b));
    const tRev = await drive(infs.slice(0, half), 5000, 4, (b) => join2.recordInferences(b));
    const m = rest.length;
    // Counters of one pane holding 1,000 labelled predictions (score histograms, delay histogram, sums).
    const prefix3 = `${prefix}pane:`;
    const join3 = new RedisLabelJoin(redis, { keyPrefix: prefix3 });
    await join3.recordInferences(infs.slice(0, 1000).map((r) => ({ ...r, timestamp: t })));
    await join3.recordLabels(labs.slice(0, 1000).map((l) => ({ ...l, timestamp: t + Math.floor(Math.random() * 86_400_000) })));
    const paneKeys = await redis.keys(`${prefix3}{bench-model}:c:*`);
    const paneBytes = paneKeys.length === 1 ? Number(await redis.memory('USAGE', paneKeys[0])) : NaN;
    return [
      { name: 'labels: inferences recorded per second (Redis, pipelined Lua batches)', value: m / tInf, unit: 'events/s' },
      { name: 'labels: label joins per second, label after inference (target >= 20,000)', value: m / tLab, unit: 'joins/s' },
      { name: 'labels: joins per second, inference after label', value: half / tRev, unit: 'joins/s' },
      { name: 'labels: Redis memory per pending prediction (INFO used_memory delta)', value: (memPending - memBefore) / m, unit: 'bytes', note: 'record + TTL + pane counters share; other clients may add noise' },
      { name: 'labels: Redis memory per joined event (joined marker until the horizon)', value: (memJoined - memBefore) / m, unit: 'bytes' },
      { name: 'labels: Redis memory of one pane of counters with 1,000 labelled predictions', value: paneBytes, unit: 'bytes', note: 'kept until the horizon passes the pane' },
    ];
  } finally {
    await deletePrefix(redis, prefix);
    await redis.quit();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchLabels()) {
    const v = line.value >= 1000 ? Math.round(line.value).toLocaleString('en-US') : line.value.toFixed(1);
    console.log(`${line.name.padEnd(80)} ${v} ${line.unit}${line.note ? `  (${line.note})` : ''}`);
  }
}
