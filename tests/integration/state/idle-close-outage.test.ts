// A partition closes its last panes on the idle timeout while Redis is away, so reporting them to
// the pane coordinator fails: the partition is read again from its checkpoint once Redis returns,
// and the last window holds every event produced for it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
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
const T0 = Date.UTC(2026, 0, 3, 0, 0, 0);
const PER_WINDOW = 300;
const WINDOWS = 3;
const IDLE_MS = 2_000;
const runId = uniqueName('idle-outage');
const modelId = 'idle-outage-model';
const schema = uniqueSchema('idleoutage');
const prefix = uniquePrefix('idleoutage');
const kafka = testKafka('driftstream-idle-outage');
const topics = runTopics(runId);
const artifacts = join(fileURLToPath(new URL('../../../', import.meta.url)), 'test-artifacts', 'idle-outage', runId);

let redisProxy: TcpProxy;
let producer: Producer;
let run: RunHandle;
let db: pg.Pool;
const logLines: { msg?: string; err?: string; at: number }[] = [];

const windowCounts = () => storedWindowCounts(db, modelId);

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  await createRunTopics(kafka, topics);
  redisProxy = await startTcpProxy({ port: Number(new URL(REDIS_URL).port || 6379) });
  const modelsFile = await writeModelFiles(artifacts, modelId, { referenceId: `${runId}-reference` });
  const config = loadConfig({
    ...detectorEnv({ runId, topics, redisPrefix: prefix, databaseSchema: schema, modelsFile }, { redisUrl: redisProxy.url(REDIS_URL) }),
    DRIFTSTREAM_AUTO_REGISTER: 'false',
    DRIFTSTREAM_IDLE_TIMEOUT: `${IDLE_MS}ms`,
    DRIFTSTREAM_CHECKPOINT_INTERVAL: '500ms',
  });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logLines.push({ ...(JSON.parse(line) as { msg?: string; err?: string }), at: Date.now() });
      done();
    },
  });
  run = await startRun(config, { http: false, logger: createLogger('warn', sink) });
  await run.detector.joined;
  producer = kafka.producer();
  await producer.connect();
  db = new pg.Pool({ connectionString: DATABASE_URL, options: `-c search_path=${schema}`, max: 2 });
}, 120_000);

afterAll(async () => {
  redisProxy?.restore();
  await run?.close().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await db?.end().catch(() => undefined);
  await redisProxy?.close();
  await removeRunState(kafka, { schema, prefix, topics }).catch(() => undefined);
}, 120_000);

describe('idle panes closed while Redis is away', () => {
  it('reads the partition again from its checkpoint, so the last window loses nothing', async () => {
    let fatal: unknown;
    run.detector.done.catch((err: unknown) => (fatal = err));
    const r = rng(11);
    let seq = 0;
    for (let w = 0; w < WINDOWS; w++) {
      const messages = [];
      for (let k = 0; k < PER_WINDOW; k++) {
        const e = inference(modelId, r, T0 + w * MINUTE + Math.floor((k * MINUTE) / PER_WINDOW), false, seq++);
        messages.push({ key: e.eventId, value: EventCodec.encodeJson(e) });
      }
      await producer.send({ topic: topics.inference, messages });
    }
    // Every event is in and checkpointed; then Redis goes away.
    await waitFor(() => run.detector.state.counters.consumed >= WINDOWS * PER_WINDOW, 60_000, 'every event consumed');
    const consumedAt = Date.now();
    await sleep(1_000);
    redisProxy.cut();
    // A replay's last pane closes after three idle timeouts without events: reporting it to the
    // coordinator fails while Redis is away (a command gives up after 5 s). Wait for a report begun after then to fail.
    const flushFailedAfter = consumedAt + 3 * IDLE_MS + 5_000;
    await waitFor(() => logLines.some((l) => l.at >= flushFailedAfter && l.msg?.startsWith('punctuation failed') && l.err?.includes('pane report')), 60_000, 'the report of the closed panes to fail');
    redisProxy.restore();

    const last = T0 + (WINDOWS - 1) * MINUTE;
    await waitFor(async () => (await windowCounts()).has(last), 60_000, 'the last window');
    // Closing the other partitions' panes must not complete the window before the partitions read again.
    await sleep(2 * IDLE_MS);
    const counts = await windowCounts();
    expect([...counts.entries()].sort((a, b) => a[0] - b[0]).map(([start, n]) => [new Date(start).toISOString(), n])).toEqual(
      Array.from({ length: WINDOWS }, (_, w) => [new Date(T0 + w * MINUTE).toISOString(), PER_WINDOW]),
    );
    expect(fatal).toBeUndefined();
    expect(run.detector.state.counters.late).toBe(0);
  }, 180_000);
});
