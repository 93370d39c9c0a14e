// A mixed stream against `driftstream run` (a child process, with the real broker, registry, Redis
// and PostgreSQL): valid events of several declared models across partitions with 1% of every bad
// kind interleaved, a metrics topic that refuses full evaluations and a DLQ topic that refuses the
// largest records. Every valid event is counted exactly once, every bad record is dead-lettered
// with its reason, nothing stalls, health stays truthful, RSS stays bounded and SIGTERM is prompt.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec } from '../../src/adapters/registry/event-codec.js';
import { DLQ_TRUNCATED_HEADER } from '../../src/adapters/kafka/kafka-dead-letter-writer.js';
import { DLQ_HEADERS } from '../../src/stream/processing-error-policy.js';
import { consumeMessages, testKafka, uniqueName } from '../support/kafka.js';
import { DATABASE_URL, uniqueSchema } from '../support/postgres.js';
import { uniquePrefix } from '../support/redis.js';
import { removeRunState } from '../support/run-state.js';
import { writeModelFiles } from '../support/stream-model.js';
import { inference, rng, waitFor } from '../integration/stream/stream-support.js';
import { FULL, ROOT, RunProcess, freePort } from './hostile-support.js';
import { detectorEnv, runTopics } from '../support/detector-env.js';

const MINUTE = 60_000;
const MODELS = ['mixed-a', 'mixed-b', 'mixed-c'];
/** Valid events per model and 1-minute window; windows per model. */
const PER_WINDOW = FULL ? 6_667 : 1_000;
const WINDOWS = FULL ? 50 : 10;
const BAD_EVERY = 100; // 1%
const OVERSIZE = 2; // 1.1 MB records: a few are enough
const T0 = Math.floor((Date.now() - 3 * 3_600_000) / MINUTE) * MINUTE;

const runId = uniqueName('mixed');
const schema = uniqueSchema('mixed');
const prefix = uniquePrefix('mixed');
const kafka = testKafka('driftstream-mixed');
const topics = runTopics(runId);
const artifacts = join(ROOT, 'test-artifacts', 'hostile', runId);

const BAD_KINDS = ['bad_json', 'future_timestamp', 'value_too_long', 'control_character', 'type_mismatch', 'too_many_features', 'model_limit'] as const;
type BadKind = (typeof BAD_KINDS)[number] | 'oversize';

let run: RunProcess;
let producer: Producer;
let db: pg.Pool;
const produced = new Map<string, number>(MODELS.map((m) => [m, 0]));
const bad = new Map<BadKind, number>();

/** Bad record `i` of a kind, stamped `ts` (where the stream is: interleaved in event time too). */
function badRecord(kind: BadKind, i: number, r: () => number, ts: number): Buffer {
  const base = inference(MODELS[i % MODELS.length], r, ts, false, 1_000_000_000 + i);
  switch (kind) {
    case 'bad_json':
      return Buffer.from('{"eventId": "broken", "modelId": ');
    case 'future_timestamp':
      return EventCodec.encodeJson({ ...base, timestamp: Date.UTC(2199, 0, 1) });
    case 'value_too_long':
      return EventCodec.encodeJson({ ...base, features: { ...base.features, c0: 'x'.repeat(2_000) } });
    case 'control_character':
      return EventCodec.encodeJson({ ...base, features: { ...base.features, c1: 'y\u0000z' } });
    case 'type_mismatch':
      return EventCodec.encodeJson({ ...base, features: { ...base.features, f0: 'high' } });
    case 'too_many_features':
      return EventCodec.encodeJson({ ...base, modelId: `wide-${i}`, features: Object.fromEntries(Array.from({ length: 1_500 }, (_, k) => [`w${k}`, k])) });
    case 'model_limit':
      return EventCodec.encodeJson({ ...base, modelId: `stranger-${i}` });
    case 'oversize':
      return EventCodec.encodeJson({ ...base, attributes: { blob: 'z'.repeat(1_100_000) } });
  }
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      // Producers may write records up to 2 MB here; the detector's own limit is 1 MiB.
      { topic: topics.inference, numPartitions: 3, configEntries: [{ name: 'max.message.bytes', value: '2000000' }] },
      // A DLQ that takes no record over 64 KB, and a metrics topic that takes no full evaluation.
      { topic: topics.dlq, numPartitions: 3, configEntries: [{ name: 'max.message.bytes', value: '65536' }] },
      { topic: topics.metrics, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '2048' }] },
      ...[topics.groundTruth, topics.alerts].map((topic) => ({ topic, numPartitions: 1 })),
    ],
  });
  await admin.disconnect();
  const files = await Promise.all(MODELS.map((m) => writeModelFiles(artifacts, m, { referenceId: `${runId}-${m}-ref` })));
  const models = files.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')).models);
  const modelsFile = join(artifacts, 'models.json');
  writeFileSync(modelsFile, JSON.stringify({ models }));
  run = new RunProcess(
    {
      ...detectorEnv({ runId, topics, redisPrefix: prefix, databaseSchema: schema, modelsFile }),
      DRIFTSTREAM_MAX_AUTO_REGISTERED_MODELS: '0',
      DRIFTSTREAM_IDLE_TIMEOUT: '10s',
      DRIFTSTREAM_CHECKPOINT_INTERVAL: '1s',
      DRIFTSTREAM_STALL_TIMEOUT: '20s',
      DRIFTSTREAM_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    },
    join(artifacts, 'run.log'),
    await freePort(),
  );
  run.start();
  await run.listening();
  producer = kafka.producer();
  await producer.connect();
  db = new pg.Pool({ connectionString: DATABASE_URL, options: `-c search_path=${schema}`, max: 2 });
}, 180_000);

afterAll(async () => {
  await run?.kill();
  await producer?.disconnect().catch(() => undefined);
  await db?.end().catch(() => undefined);
  await removeRunState(kafka, { schema, prefix, topics }).catch(() => undefined);
}, 120_000);

describe('mixed stream of valid and hostile records', () => {
  it('counts every valid event once, dead-letters every bad one with its reason, stays ready, bounded and stoppable', async () => {
    const r = rng(11);
    let seq = 0;
    let badSeq = 0;
    let batch: { key: string; value: Buffer }[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await producer.send({ topic: topics.inference, messages: batch });
      batch = [];
    };
    const started = Date.now();
    for (let w = 0; w < WINDOWS; w++) {
      for (let k = 0; k < PER_WINDOW; k++) {
        for (const m of MODELS) {
          const ts = T0 + w * MINUTE + Math.floor((k * MINUTE) / PER_WINDOW);
          batch.push({ key: `k${Math.floor(r() * 1000)}`, value: EventCodec.encodeJson(inference(m, r, ts, false, seq++)) });
          produced.set(m, produced.get(m)! + 1);
          if (seq % BAD_EVERY === 0) {
            const kind = BAD_KINDS[badSeq % BAD_KINDS.length];
            batch.push({ key: `k${Math.floor(r() * 1000)}`, value: badRecord(kind, badSeq++, r, ts) });
            bad.set(kind, (bad.get(kind) ?? 0) + 1);
          }
        }
        if (batch.length >= 3_000) await flush();
      }
      if (w === Math.floor(WINDOWS / 2)) {
        await flush();
        for (let i = 0; i < OVERSIZE; i++) await producer.send({ topic: topics.inference, messages: [{ key: `big${i}`, value: badRecord('oversize', badSeq++, r, T0 + w * MINUTE) }] });
        bad.set('oversize', OVERSIZE);
      }
    }
    await flush();
    const producedMs = Date.now() - started;
    const badTotal = [...bad.values()].reduce((a, b) => a + b, 0);

    // Health tells the truth while the stream is processed: ready, no partition stalled.
    const readyDuring = await run.get('/readyz');
    expect(readyDuring.status, readyDuring.body).toBe(200);

    // Every valid event of every declared model is in exactly one window, once.
    const sums = async () => {
      const { rows } = await db.query<{ model_id: string; n: string; windows: string }>(
        `SELECT model_id, sum(sample_size) AS n, count(*) AS windows FROM evaluations WHERE window_name = '1m' GROUP BY model_id`,
      );
      return new Map(rows.map((row) => [row.model_id, { n: Number(row.n), windows: Number(row.windows) }]));
    };
    let last = new Map<string, { n: number; windows: number }>();
    await waitFor(
      async () => {
        last = await sums();
        // The last window of a partition that went idle first may be evaluated again when the
        // others' partials arrive: wait for the final figures.
        return MODELS.every((m) => last.get(m)?.windows === WINDOWS && last.get(m)?.n === produced.get(m));
      },
      Number(process.env.HOSTILE_WAIT_MS ?? (FULL ? 900_000 : 180_000)),
      'every window of every model evaluated',
    ).catch(async (err: Error) => {
      const { rows } = await db.query(`SELECT model_id, window_start, sample_size FROM evaluations WHERE window_name = '1m' ORDER BY 1, 2`);
      const consumed = await run.metric('driftstream_events_consumed_total');
      const lag = await run.metric('driftstream_consumer_lag');
      const ready = await run.get('/readyz');
      throw new Error(`${err.message}: ${JSON.stringify(Object.fromEntries(last))} consumed=${consumed} lag=${lag} readyz=${ready.body} windows=${JSON.stringify(rows.map((r) => [r.model_id, (new Date(r.window_start).getTime() - T0) / MINUTE, Number(r.sample_size)]))}`);
    });
    const counted = await sums();
    if (process.env.HOSTILE_DEBUG) {
      const { rows } = await db.query(`SELECT model_id, window_start, sample_size FROM evaluations WHERE window_name = '1m' ORDER BY 1, 2`);
      console.log(JSON.stringify({ late: await run.metric('driftstream_events_late_total'), consumed: await run.metric('driftstream_events_consumed_total'), windows: rows.map((row) => [row.model_id, (new Date(row.window_start).getTime() - T0) / MINUTE, Number(row.sample_size)]) }));
    }
    for (const m of MODELS) expect({ model: m, ...counted.get(m) }).toEqual({ model: m, n: produced.get(m), windows: WINDOWS });

    // Every bad record is in the DLQ with its reason; the ones larger than the DLQ takes, cut.
    const dlq = await consumeMessages(kafka, topics.dlq, badTotal, 120_000);
    const reasons = new Map<string, number>();
    for (const msg of dlq) {
      const reason = String(msg.headers?.[DLQ_HEADERS.error]).split(':')[0];
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    expect(Object.fromEntries(reasons)).toEqual(Object.fromEntries(bad));
    const cut = dlq.filter((m) => m.headers?.[DLQ_TRUNCATED_HEADER] !== undefined);
    expect(cut).toHaveLength(OVERSIZE);
    expect(cut.every((m) => (m.value?.length ?? 0) < 65_536)).toBe(true);
    for (const [reason, n] of bad) expect(await run.metric('driftstream_events_invalid_total', `reason="${reason}"`)).toBe(n);

    // The metrics topic refused full evaluations: each was published in its smaller form instead.
    expect(await run.metric('driftstream_evaluations_truncated_total')).toBeGreaterThanOrEqual(0);
    const published = await consumeMessages(kafka, topics.metrics, MODELS.length * WINDOWS, 60_000);
    expect(published.some((m) => JSON.parse(String(m.value)).truncated !== undefined)).toBe(true);

    // Lag from the broker's offsets drains to 0 and readiness stays green.
    await waitFor(async () => (await run.metric('driftstream_consumer_lag')) === 0, 30_000, 'consumer lag 0');
    const ready = await run.get('/readyz');
    expect(ready.status, ready.body).toBe(200);

    const stop = await run.terminate();
    const report = {
      events: [...produced.values()].reduce((a, b) => a + b, 0),
      badByReason: Object.fromEntries(bad),
      peakRssMB: Math.round(run.peakRss / 2 ** 20),
      sigtermMs: stop.ms,
      exit: stop.code,
      producedMs,
    };
    writeFileSync(join(artifacts, 'report.json'), JSON.stringify(report, null, 2));
    console.log(`mixed stream: ${JSON.stringify(report)}`);
    expect(stop.code).toBe(0);
    expect(stop.ms).toBeLessThan(25_000);
    expect(run.peakRss).toBeLessThan((FULL ? 1024 : 600) * 2 ** 20);
  }, FULL ? 3_600_000 : 400_000);
});
