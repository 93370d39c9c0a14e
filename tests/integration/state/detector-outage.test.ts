// The detector with PostgreSQL and Redis behind proxies this test controls (the machine's servers keep
// running): PostgreSQL is cut mid-stream until the history buffer fills and consumption pauses, then
// Redis is cut; readiness says so each time; once both return, every window holds exactly the events
// produced for it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import { startRun, type RunHandle } from '../../../src/commands/run.js';
import { loadConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { testKafka, uniqueName } from '../../support/kafka.js';
import { DATABASE_URL, uniqueSchema } from '../../support/postgres.js';
import { REDIS_URL, uniquePrefix } from '../../support/redis.js';
import { removeRunState } from '../../support/run-state.js';
import { writeModelFiles } from '../../support/stream-model.js';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';
import { inference, rng, sleep, waitFor } from '../stream/stream-support.js';
import { createRunTopics, detectorEnv, runTopics, storedWindowCounts } from '../../support/detector-env.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 2, 0, 0, 0);
const PER_WINDOW = 400;
const runId = uniqueName('outage');
const modelId = 'outage-model';
const schema = uniqueSchema('outage');
const prefix = uniquePrefix('outage');
const kafka = testKafka('driftstream-outage');
const topics = runTopics(runId);
const artifacts = join(fileURLToPath(new URL('../../../', import.meta.url)), 'test-artifacts', 'outage', runId);

let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let producer: Producer;
let run: RunHandle;
let db: pg.Pool;
const expected = new Map<number, number>();
const r = rng(7);
let seq = 0;

/** Produces PER_WINDOW events into each of windows [from, to), in event-time order. */
async function produceWindows(from: number, to: number): Promise<void> {
  for (let w = from; w < to; w++) {
    const messages = [];
    for (let k = 0; k < PER_WINDOW; k++) {
      const ts = T0 + w * MINUTE + Math.floor((k * MINUTE) / PER_WINDOW);
      const e = inference(modelId, r, ts, false, seq++);
      messages.push({ key: e.eventId, value: EventCodec.encodeJson(e) });
    }
    expected.set(T0 + w * MINUTE, PER_WINDOW);
    await producer.send({ topic: topics.inference, messages });
  }
}

const windowCounts = () => storedWindowCounts(db, modelId);

async function ready(name: string): Promise<boolean> {
  const check = run.adapters.healthChecks.find((h) => h.name === name);
  if (!check) throw new Error(`no ${name} health check`);
  return check.check();
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  await createRunTopics(kafka, topics);
  pgProxy = await startTcpProxy({ port: Number(new URL(DATABASE_URL).port || 5432) });
  redisProxy = await startTcpProxy({ port: Number(new URL(REDIS_URL).port || 6379) });
  const modelsFile = await writeModelFiles(artifacts, modelId, { referenceId: `${runId}-reference` });
  const config = loadConfig({
    ...detectorEnv({ runId, topics, redisPrefix: prefix, databaseSchema: schema, modelsFile }, { redisUrl: redisProxy.url(REDIS_URL), databaseUrl: pgProxy.url(DATABASE_URL) }),
    DRIFTSTREAM_AUTO_REGISTER: 'false',
    DRIFTSTREAM_HISTORY_BUFFER: '10',
    DRIFTSTREAM_IDLE_TIMEOUT: '10s',
    DRIFTSTREAM_CHECKPOINT_INTERVAL: '1s',
    DRIFTSTREAM_PANE_LEASE: '5s',
    DRIFTSTREAM_KAFKA_SESSION_TIMEOUT: '6s',
  });
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'error');
  run = await startRun(config, { http: false, logger });
  await run.detector.joined;
  producer = kafka.producer();
  await producer.connect();
  db = new pg.Pool({ connectionString: DATABASE_URL, options: `-c search_path=${schema}`, max: 2 });
}, 120_000);

afterAll(async () => {
  pgProxy?.restore();
  redisProxy?.restore();
  await run?.close().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await db?.end().catch(() => undefined);
  await pgProxy?.close();
  await redisProxy?.close();
  await removeRunState(kafka, { schema, prefix, topics }).catch(() => undefined);
}, 120_000);

describe('detector through PostgreSQL and Redis outages', () => {
  it('pauses while PostgreSQL is away, waits out Redis, reports both in readiness, and loses nothing', async () => {
    let fatal: unknown;
    run.detector.done.catch((err: unknown) => (fatal = err));

    await produceWindows(0, 6);
    await waitFor(async () => (await windowCounts()).size >= 5, 60_000, 'the first windows in PostgreSQL');
    expect(await ready('postgres')).toBe(true);
    expect(await ready('redis')).toBe(true);

    // PostgreSQL away: evaluations pile up in the history buffer (10 rows) until it is full and
    // consumption pauses; nothing is written meanwhile.
    pgProxy.cut();
    await produceWindows(6, 30);
    await waitFor(() => run.adapters.history.isFull(), 60_000, 'the history buffer to fill');
    expect(await ready('postgres')).toBe(false);
    const consumedWhenFull = run.detector.state.counters.consumed;
    await sleep(3_000);
    // Paused: at most the batches already in flight went on.
    expect(run.detector.state.counters.consumed - consumedWhenFull).toBeLessThanOrEqual(PER_WINDOW * 6);
    pgProxy.restore();
    await waitFor(() => !run.adapters.history.isFull(), 60_000, 'the history buffer to drain');

    // Redis away: checkpoints, pane reports and evaluations fail and are retried.
    await produceWindows(30, 36);
    redisProxy.cut();
    await produceWindows(36, 42);
    await waitFor(async () => !(await ready('redis')), 10_000, 'readiness to report redis down');
    await sleep(4_000);
    redisProxy.restore();
    await waitFor(() => ready('redis'), 20_000, 'redis back');

    await produceWindows(42, 45);
    // The last window closes on the idle timeout.
    const deadline = Date.now() + 90_000;
    let counts = await windowCounts();
    const mismatches = () => [...expected].filter(([start, n]) => counts.get(start) !== n).map(([start, n]) => `${new Date(start).toISOString()}: ${counts.get(start) ?? 'none'} != ${n}`);
    while (mismatches().length > 0 && Date.now() < deadline) {
      await sleep(1_000);
      counts = await windowCounts();
    }
    // What a failure needs to be told apart: which windows, and whether their events came late or never.
    if (mismatches().length > 0) console.error(`window mismatches: ${mismatches().join('; ')}; counters ${JSON.stringify(run.detector.state.counters)}`);
    expect(mismatches()).toEqual([]);
    expect(counts.size).toBe(expected.size);
    expect(fatal).toBeUndefined();
    expect(run.detector.state.counters.late).toBe(0);
  }, 300_000);
});
