// The detector as deployed, with Redis and PostgreSQL configured (the load tests run it with
// in-memory state): events/s from the first record to the last (wall clock and per CPU-second),
// peak RSS, what Redis and PostgreSQL hold afterwards, and how long a SIGTERM takes (final
// checkpoints, offset commits, leaving the group).
//
//   npm run build && npx tsx bench/detector-state.ts [--events 600000] [--models 10] [--partitions 3]
//
// Needs the local stack (npm run stack:up); DRIFTSTREAM_KAFKA_BROKERS, DRIFTSTREAM_SCHEMA_REGISTRY_URL,
// DRIFTSTREAM_REDIS_URL and DRIFTSTREAM_DATABASE_URL override the local defaults. Everything it
// creates (topic, consumer group, Redis key prefix, PostgreSQL schema) is named after the run and
// removed at the end. Events: load-tests/produce.ts (20 numeric + 5 categorical features, Avro,
// keyed by modelId); models register themselves and bootstrap their references from their first
// 5,000 events, as with auto-registration in production.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { NodeChild, REPO_ROOT, freePort, scrapeCounters, waitFor } from '../load-tests/child-process.js';
import { produce } from '../load-tests/produce.js';
import { modelIds } from '../load-tests/traffic.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '600000' },
    models: { type: 'string', default: '10' },
    partitions: { type: 'string', default: '3' },
  },
});
const EVENTS = Number(values.events);
const BROKERS = (process.env.DRIFTSTREAM_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const REGISTRY_URL = process.env.DRIFTSTREAM_SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
const REDIS_URL = process.env.DRIFTSTREAM_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const DATABASE_URL = process.env.DRIFTSTREAM_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const run = `bench-state-${Date.now().toString(36)}`;
const schema = run.replace(/-/g, '_');
const prefix = `${run}:`;
const dir = mkdtempSync(join(tmpdir(), 'driftstream-bench-state-'));

function usedMemory(info: string): number {
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
}

function usedCpu(info: string): number {
  return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? NaN) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? NaN);
}

function line(name: string, value: number, unit: string, note = ''): void {
  const v = value >= 1000 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
  console.log(`${name.padEnd(72)} ${v} ${unit}${note ? `  (${note})` : ''}`);
}

const redis = new Redis(REDIS_URL);
const db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const kafka = new Kafka({ clientId: run, brokers: BROKERS, logLevel: logLevel.NOTHING });
const env = {
  DRIFTSTREAM_KAFKA_BROKERS: BROKERS.join(','),
  DRIFTSTREAM_SCHEMA_REGISTRY_URL: REGISTRY_URL,
  DRIFTSTREAM_REDIS_URL: REDIS_URL,
  DRIFTSTREAM_REDIS_KEY_PREFIX: prefix,
  DRIFTSTREAM_DATABASE_URL: DATABASE_URL,
  DRIFTSTREAM_DATABASE_SCHEMA: schema,
  DRIFTSTREAM_GROUP_ID: run,
  DRIFTSTREAM_INFERENCE_TOPIC: `${run}-inference`,
  DRIFTSTREAM_GROUND_TRUTH_TOPIC: `${run}-labels`,
  DRIFTSTREAM_ALERTS_TOPIC: `${run}-alerts`,
  DRIFTSTREAM_METRICS_TOPIC: `${run}-metrics`,
  DRIFTSTREAM_DLQ_TOPIC: `${run}-dlq`,
  DRIFTSTREAM_LOG_LEVEL: 'warn',
};

let detector: NodeChild | undefined;
try {
  console.log(`run ${run}: ${EVENTS.toLocaleString('en-US')} events, ${values.models} models, ${values.partitions} partitions; logs in ${dir}`);
  const produced = await produce({
    brokers: BROKERS,
    registryUrl: REGISTRY_URL,
    topic: env.DRIFTSTREAM_INFERENCE_TOPIC,
    models: modelIds('bench', Number(values.models)),
    count: EVENTS,
    partitions: Number(values.partitions),
    // Ten minutes of event time, so 1-minute windows close and are evaluated along the way.
    eventTimeRate: Math.ceil(EVENTS / 600),
  });
  line('produced (load-tests/produce.ts, Avro)', produced.eventsPerSecond, 'events/s', `${(produced.bytes / produced.produced).toFixed(0)} bytes per event`);

  execFileSync(process.execPath, ['dist/cli.js', 'migrate'], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
  const redisBefore = usedMemory(await redis.info('memory'));
  const port = await freePort();
  detector = new NodeChild({
    args: ['dist/cli.js', 'run', '--start-from', 'earliest'],
    compiled: true,
    env: { ...env, DRIFTSTREAM_HTTP_PORT: String(port) },
    logFile: join(dir, 'detector.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  let first: { at: number; cpuMs: number; redisCpuS: number } | undefined;
  let consumed = 0;
  await waitFor(
    async () => {
      consumed = (await scrapeCounters(url)).consumed;
      if (consumed > 0 && !first) first = { at: Date.now(), cpuMs: detector!.cpuMs() ?? 0, redisCpuS: usedCpu(await redis.info('cpu')) };
      return consumed >= EVENTS;
    },
    600_000,
    `the detector to consume ${EVENTS} events`,
    100,
  );
  const elapsedS = (Date.now() - first!.at) / 1000;
  const cpuS = ((detector.cpuMs() ?? 0) - first!.cpuMs) / 1000;
  line('detector with Redis + PostgreSQL: events/s, first record to last', consumed / elapsedS, 'events/s');
  line('detector with Redis + PostgreSQL: events per CPU-second', consumed / cpuS, 'events/s');
  const redisCpuS = usedCpu(await redis.info('cpu')) - first!.redisCpuS;
  line('detector with Redis + PostgreSQL: peak RSS', detector.peakRssMb, 'MB');
  line('Redis CPU-seconds per million events (label joins, checkpoints)', (redisCpuS / consumed) * 1e6, 's', 'other clients may add noise');
  line('events per CPU-second, detector and Redis together', consumed / (cpuS + redisCpuS), 'events/s');

  // Let the history writer and the label recorder drain before measuring what they stored.
  await new Promise((r) => setTimeout(r, 5000));
  const redisAfter = usedMemory(await redis.info('memory'));
  line('Redis memory added by the run', (redisAfter - redisBefore) / 1e6, 'MB', 'other clients may add noise');
  line('Redis memory per consumed event (label-join records dominate)', (redisAfter - redisBefore) / consumed, 'bytes');
  const rows = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.evaluations`);
  line('evaluations written to PostgreSQL', Number(rows.rows[0].n), 'rows');

  const t0 = Date.now();
  const code = await detector.stop(60_000);
  line('SIGTERM to exit (final checkpoints, commits, leaving the group)', (Date.now() - t0) / 1000, 's', `exit code ${code}`);
} finally {
  await detector?.stop(5000);
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(run));
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.deleteGroups([run]).catch(() => undefined);
  await admin.disconnect();
  const stream = redis.scanStream({ match: `${prefix}*`, count: 5000 });
  for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.unlink(...keys);
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await db.end();
  redis.disconnect();
}
