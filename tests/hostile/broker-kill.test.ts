// kill -9 of the Kafka broker mid-stream: a broker this test starts itself (its own ports, data and
// process; the shared broker never sees it), with `driftstream run` (Redis, PostgreSQL, HTTP)
// consuming from it. While the broker is gone /readyz reports kafka down; once it is back every
// event is counted exactly once and no alert record is published twice.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec } from '../../src/adapters/registry/event-codec.js';
import { consumeMessages, uniqueName } from '../support/kafka.js';
import { DATABASE_URL, dropSchema, uniqueSchema } from '../support/postgres.js';
import { deletePrefix, testRedis, uniquePrefix } from '../support/redis.js';
import { writeModelFiles } from '../support/stream-model.js';
import { inference, rng, sleep, waitFor } from '../integration/stream/stream-support.js';
import { FULL, PrivateBroker, ROOT, RunProcess, freePort } from './hostile-support.js';
import { createRunTopics, detectorEnv, runTopics } from '../support/detector-env.js';

const MINUTE = 60_000;
const MODEL = 'broker-kill';
const PER_WINDOW = FULL ? 5_000 : 1_000;
const T0 = Math.floor((Date.now() - 3 * 3_600_000) / MINUTE) * MINUTE;
// Windows 0-3 clean, 4-7 drifted (alerts fire), 8-13 clean again (they resolve).
const WINDOWS = 14;
const drifted = (w: number) => w >= 4 && w < 8;

const runId = uniqueName('bkill');
const schema = uniqueSchema('bkill');
const prefix = uniquePrefix('bkill');
const artifacts = join(ROOT, 'test-artifacts', 'hostile', runId);
const topics = runTopics(runId);

let broker: PrivateBroker;
let kafka: Kafka;
let run: RunProcess;
let producer: Producer;
let db: pg.Pool;
const r = rng(23);
let seq = 0;

async function produceWindows(from: number, to: number): Promise<void> {
  for (let w = from; w < to; w++) {
    const messages = [];
    for (let k = 0; k < PER_WINDOW; k++) {
      const ts = T0 + w * MINUTE + Math.floor((k * MINUTE) / PER_WINDOW);
      messages.push({ key: `k${Math.floor(r() * 1000)}`, value: EventCodec.encodeJson(inference(MODEL, r, ts, drifted(w), seq++)) });
    }
    await producer.send({ topic: topics.inference, messages });
  }
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  broker = await PrivateBroker.create(join(artifacts, 'broker'));
  await broker.start();
  kafka = new Kafka({ clientId: 'bkill-test', brokers: [broker.brokers], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 300, maxRetryTime: 3_000 } });
  await createRunTopics(kafka, topics);
  const modelsFile = await writeModelFiles(artifacts, MODEL, { referenceId: `${runId}-ref`, resolveAfter: 2 });
  run = new RunProcess(
    {
      ...detectorEnv({ runId, topics, redisPrefix: prefix, databaseSchema: schema, modelsFile }, { brokers: broker.brokers }),
      DRIFTSTREAM_AUTO_REGISTER: 'false',
      DRIFTSTREAM_IDLE_TIMEOUT: '10s',
      DRIFTSTREAM_CHECKPOINT_INTERVAL: '1s',
      DRIFTSTREAM_KAFKA_SESSION_TIMEOUT: '10s',
      DRIFTSTREAM_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    },
    join(artifacts, 'run.log'),
    await freePort(),
  );
  run.start();
  await run.listening(120_000);
  producer = kafka.producer({ retry: { retries: 30, initialRetryTime: 300, maxRetryTime: 3_000 } });
  await producer.connect();
  db = new pg.Pool({ connectionString: DATABASE_URL, options: `-c search_path=${schema}`, max: 2 });
}, 240_000);

afterAll(async () => {
  await run?.kill();
  await producer?.disconnect().catch(() => undefined);
  await db?.end().catch(() => undefined);
  await broker?.stop().catch(() => undefined);
  const redis = testRedis();
  await deletePrefix(redis, prefix).catch(() => undefined);
  await redis.quit().catch(() => undefined);
  await dropSchema(schema).catch(() => undefined);
}, 120_000);

describe('kill -9 of the Kafka broker mid-stream', () => {
  it('reports the outage while it lasts, then loses nothing and publishes no alert twice', async () => {
    await waitFor(async () => (await run.get('/readyz')).status === 200, 60_000, 'ready before the fault');
    await produceWindows(0, 7);

    // Mid-stream: the detector is still consuming and evaluating what was produced.
    await broker.kill();
    const killedAt = Date.now();
    let notReady = '';
    await waitFor(
      async () => {
        const res = await run.get('/readyz').catch(() => ({ status: 0, body: '' }));
        if (res.status === 503) notReady = res.body;
        return res.status === 503;
      },
      30_000,
      '/readyz to report the broker down',
    );
    expect(JSON.parse(notReady)).toMatchObject({ code: 'NOT_READY', down: expect.arrayContaining(['kafka']) });
    await sleep(Math.max(0, (FULL ? 20_000 : 5_000) - (Date.now() - killedAt)));
    expect((await run.get('/readyz')).status).toBe(503);
    await broker.start();

    await produceWindows(7, WINDOWS);
    await waitFor(async () => (await run.get('/readyz')).status === 200, 120_000, 'ready again after the broker returned');

    // Every window holds exactly the events produced for it.
    let counts = new Map<number, number>();
    await waitFor(
      async () => {
        const { rows } = await db.query<{ start: Date; n: string }>(`SELECT window_start AS start, sample_size AS n FROM evaluations WHERE model_id = $1 AND window_name = '1m'`, [MODEL]);
        counts = new Map(rows.map((row) => [row.start.getTime(), Number(row.n)]));
        // A window evaluated before a slower partition's partial arrived is evaluated again with it.
        return counts.size >= WINDOWS && [...counts.values()].every((n) => n === PER_WINDOW);
      },
      FULL ? 600_000 : 240_000,
      'every window evaluated',
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify([...counts])}`);
    });
    expect([...counts].sort((a, b) => a[0] - b[0])).toEqual(Array.from({ length: WINDOWS }, (_, w) => [T0 + w * MINUTE, PER_WINDOW]));

    // The drift fired and resolved, and no (alertId, status, severity) is on the topic twice.
    await sleep(3_000);
    const admin = kafka.admin();
    await admin.connect();
    const onTopic = (await admin.fetchTopicOffsets(topics.alerts)).reduce((n, p) => n + Number(p.high), 0);
    await admin.disconnect();
    const alerts = await consumeMessages(kafka, topics.alerts, onTopic, 60_000);
    const keys = alerts.map((m) => `${m.headers?.['driftstream-alert-id']}|${m.headers?.['driftstream-status']}|${m.headers?.['driftstream-severity']}`);
    expect(keys.some((k) => k.includes('|FIRING|'))).toBe(true);
    expect(keys.some((k) => k.includes('|RESOLVED|'))).toBe(true);
    // Every record on the topic is a distinct (alertId, status, severity).
    expect(new Set(keys).size).toBe(onTopic);

    const stop = await run.terminate();
    console.log(`broker kill: outage ${FULL ? 20 : 5} s, sigterm ${stop.ms} ms, peak RSS ${Math.round(run.peakRss / 2 ** 20)} MB`);
    expect(stop.code).toBe(0);
  }, FULL ? 1_800_000 : 600_000);
});
