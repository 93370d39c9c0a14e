// Checkpoint cost: events/s of one partition's window state with and without a Redis checkpoint
// every interval (the checkpoint blocks processing, as in the detector; rates in CPU time plus Redis wait), the size and time of one
// checkpoint, and the time to restore a partition (GET + parse + rebuild the panes).
//
//   npx tsx bench/checkpoint.ts [--models 10] [--seconds 6] [--interval 5000]
//   DRIFTSTREAM_REDIS_URL picks the Redis (default redis://127.0.0.1:6379); keys are deleted after.
import { randomUUID } from 'node:crypto';
import { parseModelConfig } from '../src/core/model/model-config.js';
import { ReferenceProfileBuilder, type ColumnType } from '../src/core/profile/reference-profile.js';
import { createPaneLayout, type PaneLayout } from '../src/core/windows/pane-layout.js';
import { PartitionWindows, type PartitionWindowsJSON } from '../src/core/windows/partition-windows.js';
import { createRedisClient } from '../src/adapters/redis/redis-connection.js';
import { RedisCheckpointStore } from '../src/adapters/redis/redis-checkpoint-store.js';
import type { BenchLine } from './stats.js';
import { mulberry32, normalGenerator } from './random.js';

const NUMERIC = 20;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const CATEGORICAL = 5;
const CATEGORIES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

interface Setup {
  layouts: PaneLayout[];
  params: { paneMs: number; latenessMs: number };
  events: { model: number; ts: number; features: Record<string, number | string>; score: number }[];
}

function setup(models: number, eventCount: number): Setup {
  const types: Record<string, ColumnType> = { score: 'numeric' };
  const features: Record<string, 'numeric' | 'categorical'> = {};
  for (let i = 0; i < NUMERIC; i++) features[`n${i}`] = 'numeric';
  for (let i = 0; i < CATEGORICAL; i++) features[`c${i}`] = 'categorical';
  Object.assign(types, features);
  const rnd = mulberry32(7);
  const g = normalGenerator(11);
  const row = () => {
    const f: Record<string, number | string> = {};
    for (let i = 0; i < NUMERIC; i++) f[`n${i}`] = g() * (1 + i / 10) + i;
    for (let i = 0; i < CATEGORICAL; i++) f[`c${i}`] = CATEGORIES[Math.floor(rnd() * CATEGORIES.length)];
    return f;
  };
  const layouts: PaneLayout[] = [];
  for (let m = 0; m < models; m++) {
    const model = parseModelConfig({ modelId: `model-${m}`, features, windows: [{ name: '1m', size: '1m' }, { name: '1h', size: '1h', slide: '5m' }], prediction: 'score' });
    const b = new ReferenceProfileBuilder(types);
    for (let i = 0; i < 5_000; i++) b.accept({ ...row(), score: rnd() });
    const profile = b.build({ createdAt: 0, id: `ref-${m}`, modelId: model.modelId });
    layouts.push(createPaneLayout(model, profile.id, profile));
  }
  // Event time advances 2 ms per event: a 1-minute pane closes every 30,000 events.
  const t0 = Date.UTC(2026, 0, 1);
  const events = Array.from({ length: eventCount }, (_, i) => ({ model: i % models, ts: t0 + i * 2, features: row(), score: rnd() }));
  return { layouts, params: { paneMs: 60_000, latenessMs: 30_000 }, events };
}

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
};

/**
 * Processes `total` events in batches of 500; with a store, checkpoints every
 * `every` events and waits for it. Time is CPU time plus the wall time spent
 * waiting for Redis: on a shared machine wall time mostly measures the neighbours.
 */
async function run(s: Setup, total: number, every: number, store?: RedisCheckpointStore): Promise<{ rate: number; seconds: number; bytes: number; cpMs: number[] }> {
  const windows = new PartitionWindows(0);
  const cpMs: number[] = [];
  let bytes = 0;
  let ioSeconds = 0;
  let sinceCheckpoint = 0;
  const cpu0 = process.cpuUsage();
  for (let n = 0; n < total; ) {
    for (let k = 0; k < 500; k++, n++) {
      const e = s.events[n % s.events.length];
      const ts = e.ts + Math.floor(n / s.events.length) * s.events.length * 2;
      windows.observe(ts, 0);
      const pane = windows.paneFor(s.layouts[e.model], s.params, ts);
      pane?.accept(e.features, e.score, null, null);
    }
    windows.closeDue();
    sinceCheckpoint += 500;
    if (store && sinceCheckpoint >= every) {
      sinceCheckpoint = 0;
      const t = performance.now();
      const c = process.cpuUsage();
      const state = windows.toJSON();
      await store.saveCheckpoint('bench', { topic: 'inference-events', partition: 0, nextOffset: String(n), watermark: windows.clock, state, savedAt: Date.now() });
      const wall = (performance.now() - t) / 1000;
      ioSeconds += Math.max(0, wall - cpuSeconds(c));
      cpMs.push(wall * 1000);
      bytes = JSON.stringify(state).length;
    }
  }
  const seconds = cpuSeconds(cpu0) + ioSeconds;
  return { rate: total / seconds, seconds, bytes, cpMs };
}

export async function benchCheckpoint(opts: { models?: number; seconds?: number; intervalMs?: number } = {}): Promise<BenchLine[]> {
  const models = opts.models ?? 10;
  const seconds = opts.seconds ?? 12;
  const intervalMs = opts.intervalMs ?? 5_000;
  const s = setup(models, 200_000);
  const redis = createRedisClient(process.env.DRIFTSTREAM_REDIS_URL ?? 'redis://127.0.0.1:6379', { name: 'driftstream-bench' });
  const prefix = `driftstream-bench:${randomUUID().slice(0, 8)}:`;
  const store = new RedisCheckpointStore(redis, { prefix });
  try {
    await run(s, 300_000, Infinity); // warm-up
    const bareRate = (await run(s, 1_000_000, Infinity)).rate;
    // Checkpoint as often, in events, as the interval allows at the bare rate.
    const every = Math.max(500, Math.round((bareRate * intervalMs) / 1000));
    const total = Math.round(bareRate * seconds);
    let bare = 0;
    let withCp = { rate: 0, seconds: 0, bytes: 0, cpMs: [] as number[] };
    let stress = { rate: 0, seconds: 0, bytes: 0, cpMs: [] as number[] };
    for (let r = 0; r < 3; r++) {
      bare = Math.max(bare, (await run(s, total, Infinity)).rate);
      const c = await run(s, total, every, store);
      if (c.rate > withCp.rate) withCp = c;
      const c1 = await run(s, Math.round(total / 3), Math.max(500, Math.round(every / 10)), store);
      if (c1.rate > stress.rate) stress = c1;
    }
    const cps = [...withCp.cpMs, ...stress.cpMs].sort((a, b) => a - b);
    // Restore: read the checkpoint and rebuild the panes, as on partition assignment.
    const layoutOf = new Map(s.layouts.map((l) => [`${l.modelId}@${l.referenceId}`, l]));
    const restores: number[] = [];
    let panes = 0;
    for (let r = 0; r < 20; r++) {
      const t = performance.now();
      const cp = await store.loadCheckpoint('bench', 'inference-events', 0);
      const { windows } = PartitionWindows.fromJSON(cp!.state as PartitionWindowsJSON, (m, ref) => layoutOf.get(`${m}@${ref}`), Date.now());
      restores.push(performance.now() - t);
      panes = windows.openPanes;
    }
    restores.sort((a, b) => a - b);
    const tag = `${models} models x ${NUMERIC + CATEGORICAL} features`;
    return [
      { name: `partition processing without checkpoints (${tag})`, value: bare, unit: 'events/s' },
      {
        name: `partition processing, checkpoint every ${intervalMs / 1000} s`,
        value: withCp.rate,
        unit: 'events/s',
        note: `cost ${((1 - withCp.rate / bare) * 100).toFixed(1)}%, ${((sum(withCp.cpMs) / 1000 / withCp.seconds) * 100).toFixed(1)}% of the time in checkpoints; target < 10%`,
      },
      { name: `partition processing, checkpoint every ${intervalMs / 10_000} s (stress)`, value: stress.rate, unit: 'events/s', note: `cost ${((1 - stress.rate / bare) * 100).toFixed(1)}%` },
      { name: 'checkpoint size', value: withCp.bytes / 1024, unit: 'KiB', note: `${panes} open panes` },
      { name: 'checkpoint time (serialize + SET), median', value: cps[Math.floor(cps.length / 2)] ?? NaN, unit: 'ms', note: `p max ${cps[cps.length - 1]?.toFixed(1)} ms, ${cps.length} checkpoints` },
      { name: 'partition restore (GET + parse + rebuild panes), median of 20', value: restores[10], unit: 'ms', note: `max ${restores[19].toFixed(1)} ms` },
    ];
  } finally {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 100);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  for (const line of await benchCheckpoint({ models: arg('models'), seconds: arg('seconds'), intervalMs: arg('interval') })) {
    const v = line.value >= 1000 ? Math.round(line.value).toLocaleString('en-US') : line.value.toFixed(2);
    console.log(`${line.name.padEnd(72)} ${v} ${line.unit}${line.note ? `  (${line.note})` : ''}`);
  }
}
