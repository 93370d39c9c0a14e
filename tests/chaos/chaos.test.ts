// Chaos test (issue: state that survives). Three `driftstream run` processes in one consumer group
// read a six-partition topic while a known stream is produced; random processes are SIGKILLed and
// restarted at random points. Afterwards every 1-minute window's sample count in PostgreSQL must
// equal exactly the events produced for it, no alert record (alertId, status, severity) may appear
// twice, and the alerts of the injected drift must be there.
//
// `npm test` runs the reduced variant (200,000 events, 5 kills); `npm run test:chaos` the full one
// (2,000,000 events, 20 kills). CHAOS_EVENTS / CHAOS_KILLS / CHAOS_SEED override either.
// With CHAOS_REDIS=cluster (chaos-redis-cluster.test.ts) the state lives in a local Redis Cluster of
// 3 masters and 3 replicas, and halfway through the master holding the pane coordinator is SIGKILLed
// too: its replica takes over, and the counts must stay exact all the same.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec } from '../../src/adapters/registry/event-codec.js';
import { REGISTRY_URL, testKafka, uniqueName } from '../support/kafka.js';
import { DATABASE_URL, uniqueSchema } from '../support/postgres.js';
import { uniquePrefix } from '../support/redis.js';
import { AlertCollector, inference, rng, sleep } from '../integration/stream/stream-support.js';
import { removeRunState } from '../support/run-state.js';
import { writeModelFiles } from '../support/stream-model.js';
import { DetectorProcess } from './detector-process.js';
import { detectorEnv } from '../support/detector-env.js';
import { startRedisCluster, type LocalRedisCluster } from '../support/redis-cluster.js';

const FULL = process.env.CHAOS_FULL === '1';
const EVENTS = Number(process.env.CHAOS_EVENTS ?? (FULL ? 2_000_000 : 200_000));
const KILLS = Number(process.env.CHAOS_KILLS ?? (FULL ? 20 : 5));
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const WINDOWS = FULL ? 100 : 40;
const REDIS_CLUSTER = process.env.CHAOS_REDIS === 'cluster';
const PROCESSES = 3;
const PARTITIONS = 6;
const DRIFT_FROM = 15; // windows [15, 20) are drifted
const DRIFT_TO = 20;
const RESOLVE_AFTER = 2;
const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
// Kills come every 8-16 s: each one stalls the group for about a session timeout (6 s) while the
// dead member's partitions move, and the idle timeout must stay above that stall.
const KILL_GAP_MS: [number, number] = [8_000, 16_000];
const PRODUCE_MS = Math.max(KILLS * 12_500, FULL ? 240_000 : 60_000);
const TEST_TIMEOUT_MS = PRODUCE_MS + (FULL ? 600_000 : 180_000);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const runId = uniqueName(REDIS_CLUSTER ? 'chaos-cluster' : 'chaos');
const artifacts = join(ROOT, 'test-artifacts', 'chaos', runId);
const modelId = 'chaos-credit';
const schema = uniqueSchema('chaos');
const prefix = uniquePrefix('chaos');
const kafka = testKafka('driftstream-chaos');
const random = rng(SEED);
const topics = {
  inference: `${runId}-inference`,
  groundTruth: `${runId}-ground-truth`,
  alerts: `${runId}-alerts`,
  metrics: `${runId}-metrics`,
  dlq: `${runId}-dlq`,
};

let producer: Producer;
let collector: AlertCollector;
let db: pg.Pool;
let passed = false;
const detectors: DetectorProcess[] = [];
let redisCluster: LocalRedisCluster | undefined;

/** Event time of event i: monotonic, denser in some minutes than others, so counts differ per window. */
function eventTime(i: number): number {
  const u = i / EVENTS;
  const g = u + Math.sin(2 * Math.PI * 3 * u) / (2 * Math.PI * 3) / 5;
  return T0 + Math.floor(g * WINDOWS * MINUTE);
}

function logTails(lines = 30): string {
  return detectors
    .map((d) => {
      const text = readFileSync(d.logFile, 'utf8').trimEnd().split('\n');
      return `--- ${d.name} (${d.logFile}) ---\n${text.slice(-lines).join('\n')}`;
    })
    .join('\n');
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topics.inference, numPartitions: PARTITIONS },
      { topic: topics.dlq, numPartitions: PARTITIONS },
      { topic: topics.groundTruth, numPartitions: 1 },
      { topic: topics.alerts, numPartitions: 1 },
      { topic: topics.metrics, numPartitions: 1 },
    ],
  });
  await admin.disconnect();

  // The reference is built once, here, and declared with the model: every process uses the same one.
  const modelsFile = await writeModelFiles(artifacts, modelId, { referenceId: `${runId}-reference`, resolveAfter: RESOLVE_AFTER });

  db = new pg.Pool({ connectionString: DATABASE_URL, options: `-c search_path=${schema}`, max: 2 });
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  collector = new AlertCollector(kafka, topics.alerts, new EventCodec({ registryUrl: REGISTRY_URL }));
  await collector.start();

  if (REDIS_CLUSTER) redisCluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  const clusterEnv = redisCluster ? { DRIFTSTREAM_REDIS_MODE: 'cluster', DRIFTSTREAM_REDIS_NODES: redisCluster.seeds.slice(1).join(',') } : {};
  const env: NodeJS.ProcessEnv = {
    ...detectorEnv({ runId, topics, redisPrefix: prefix, databaseSchema: schema, modelsFile }, { redisUrl: redisCluster?.url }),
    ...clusterEnv,
    DRIFTSTREAM_AUTO_REGISTER: 'false',
    DRIFTSTREAM_KAFKA_SESSION_TIMEOUT: '6s',
    DRIFTSTREAM_IDLE_TIMEOUT: '25s',
    DRIFTSTREAM_CHECKPOINT_INTERVAL: '1s',
    DRIFTSTREAM_PANE_LEASE: '5s',
    // Debug level logs every pane report and election: what a failed run is diagnosed from.
    DRIFTSTREAM_LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'debug',
  };
  for (let i = 0; i < PROCESSES; i++) detectors.push(new DetectorProcess(`detector-${i}`, env, join(artifacts, `detector-${i}.log`), artifacts));
  for (const d of detectors) d.start();
  await sleep(3_000);
  // A detector that cannot start (bad configuration, a broken build) fails here, not as a count mismatch.
  expect(detectors.filter((d) => !d.running).map((d) => readFileSync(d.logFile, 'utf8'))).toEqual([]);
  writeFileSync(join(artifacts, 'run.json'), JSON.stringify({ runId, seed: SEED, events: EVENTS, kills: KILLS, windows: WINDOWS, schema, prefix, topics }, null, 2));
}, 120_000);

afterAll(async () => {
  await Promise.all(detectors.map((d) => d.stop(10_000).catch(() => undefined)));
  await collector?.stop().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await db?.end().catch(() => undefined);
  if (redisCluster && (passed || process.env.CHAOS_KEEP !== '1')) await redisCluster.stop();
  // A failed run keeps its schema, Redis keys and topics next to its logs (names in run.json).
  if (passed && process.env.CHAOS_KEEP !== '1') {
    await removeRunState(kafka, { schema, prefix, topics }).catch(() => undefined);
  }
}, 120_000);

/** Produces the stream at a steady pace over PRODUCE_MS; returns the events per window start. */
async function produce(): Promise<Map<number, number>> {
  const expected = new Map<number, number>();
  const r = rng(SEED + 1);
  const chunk = 2_000;
  const started = Date.now();
  for (let i = 0; i < EVENTS; i += chunk) {
    const messages = [];
    for (let k = i; k < Math.min(EVENTS, i + chunk); k++) {
      const ts = eventTime(k);
      const window = Math.floor((ts - T0) / MINUTE);
      const e = inference(modelId, r, ts, window >= DRIFT_FROM && window < DRIFT_TO, k);
      expected.set(T0 + window * MINUTE, (expected.get(T0 + window * MINUTE) ?? 0) + 1);
      messages.push({ key: e.eventId, value: EventCodec.encodeJson(e) });
    }
    await producer.send({ topic: topics.inference, messages });
    const due = started + ((i + chunk) / EVENTS) * PRODUCE_MS;
    if (Date.now() < due) await sleep(due - Date.now());
  }
  return expected;
}

/** SIGKILLs a random detector and restarts it after a random pause, `KILLS` times at random points. */
async function chaos(log: string[]): Promise<void> {
  const window = PRODUCE_MS / KILLS;
  for (let k = 0; k < KILLS; k++) {
    // One kill in each slice of the production time, at a random point of it (and gaps of 8-16 s).
    const gap = Math.min(KILL_GAP_MS[1], Math.max(KILL_GAP_MS[0], window * (0.5 + random())));
    await sleep(gap);
    const d = detectors[Math.floor(random() * detectors.length)];
    const pause = Math.floor(random() * 3_000);
    log.push(`${new Date().toISOString()} kill ${d.name} (pid ${d.pid}), restart in ${pause} ms`);
    await d.kill();
    await sleep(pause);
    d.start();
    if (redisCluster && k === Math.floor(KILLS / 2)) await killRedisMaster(redisCluster, log);
  }
}

/** SIGKILLs the Redis master holding the consumer group's pane coordinator; its replica is promoted. */
async function killRedisMaster(cluster: LocalRedisCluster, log: string[]): Promise<void> {
  const key = `${prefix}{panes:${encodeURIComponent(`${runId}-group`)}}:pane`;
  log.push(`${new Date().toISOString()} kill -9 the redis master of ${key} (port ${await cluster.masterOf(key)})`);
  const port = await cluster.killMasterOf(key);
  log.push(`${new Date().toISOString()} redis replica promoted (now port ${await cluster.masterOf(key)}); restarting ${port} as a replica`);
  await cluster.restart(port);
}

async function windowCounts(): Promise<Map<number, number>> {
  const { rows } = await db.query<{ start: Date; n: string }>(
    `SELECT window_start AS start, sample_size AS n FROM evaluations WHERE model_id = $1 AND window_name = '1m'`,
    [modelId],
  );
  return new Map(rows.map((r) => [r.start.getTime(), Number(r.n)]));
}

function diff(expected: Map<number, number>, actual: Map<number, number>): string[] {
  const out: string[] = [];
  for (const [start, n] of expected) {
    const got = actual.get(start);
    if (got !== n) out.push(`${new Date(start).toISOString()}: expected ${n}, stored ${got ?? 'nothing'}`);
  }
  for (const [start, n] of actual) if (!expected.has(start)) out.push(`${new Date(start).toISOString()}: unexpected window with ${n}`);
  return out;
}

describe(`chaos: ${PROCESSES} detectors, ${PARTITIONS} partitions, ${EVENTS.toLocaleString('en-US')} events, ${KILLS} kill -9${REDIS_CLUSTER ? ', state in a Redis Cluster whose master is killed' : ''}`, () => {
  it(
    'counts every event exactly once per window, never repeats an alert record, and raises the expected alerts',
    async () => {
      const chaosLog: string[] = [];
      const [expected] = await Promise.all([produce(), chaos(chaosLog)]);
      writeFileSync(join(artifacts, 'chaos.log'), chaosLog.join('\n') + '\n');
      expect(detectors.reduce((n, d) => n + d.kills, 0)).toBe(KILLS);
      expect([...expected.values()].reduce((a, b) => a + b, 0)).toBe(EVENTS);

      // The last windows close on the idle timeout; then the history writer flushes.
      const deadline = Date.now() + (FULL ? 300_000 : 120_000);
      let actual = await windowCounts();
      while (diff(expected, actual).length > 0 && Date.now() < deadline) {
        await sleep(2_000);
        actual = await windowCounts();
      }
      const mismatches = diff(expected, actual);
      if (mismatches.length > 0) console.error(`window mismatches:\n${mismatches.join('\n')}\n${chaosLog.join('\n')}\n${logTails()}`);
      expect(mismatches).toEqual([]);

      // A clean shutdown: final checkpoint, flush, leave the group.
      const codes = await Promise.all(detectors.map((d) => d.stop(30_000)));
      if (codes.some((c) => c !== 0)) console.error(`exit codes ${JSON.stringify(codes)}\n${logTails(60)}`);
      expect(codes).toEqual(detectors.map(() => 0));
      await sleep(1_000);

      const published = collector.alerts.map(({ alert: a }) => `${a.alertId}|${a.status}|${a.severity}`);
      expect(published.length - new Set(published).size).toBe(0);
      const { rows: stored } = await db.query<{ alert_id: string; status: string; severity: string; feature: string | null; kind: string; window_start: Date }>(
        'SELECT alert_id, status, severity, feature, kind, window_start FROM alerts WHERE model_id = $1',
        [modelId],
      );
      const storedKeys = new Set(stored.map((a) => `${a.alert_id}|${a.status}|${a.severity}`));
      expect(storedKeys.size).toBe(stored.length);
      // Every record on the topic is in the history.
      expect(published.filter((k) => !storedKeys.has(k))).toEqual([]);

      // The injected drift (f0 shifted, c0 skewed in windows 15-19) fires at its first window and resolves
      // after RESOLVE_AFTER clean windows; no other feature alerts.
      const firing = stored.filter((a) => a.status === 'FIRING');
      const drifted = new Set(firing.map((a) => a.feature));
      expect(drifted).toEqual(new Set(['f0', 'c0']));
      for (const feature of ['f0', 'c0']) {
        const first = firing.filter((a) => a.feature === feature).map((a) => a.window_start.getTime());
        expect(Math.min(...first)).toBe(T0 + DRIFT_FROM * MINUTE);
        const ids = new Set(firing.filter((a) => a.feature === feature).map((a) => a.alert_id));
        const resolved = stored.filter((a) => a.status === 'RESOLVED' && ids.has(a.alert_id));
        expect(resolved.map((a) => a.window_start.getTime())).toEqual([T0 + (DRIFT_TO + RESOLVE_AFTER - 1) * MINUTE]);
      }

      // Nothing was dead-lettered.
      const admin = kafka.admin();
      await admin.connect();
      const dlq = await admin.fetchTopicOffsets(topics.dlq);
      await admin.disconnect();
      expect(dlq.reduce((n, p) => n + Number(p.high), 0)).toBe(0);
      passed = true;
    },
    TEST_TIMEOUT_MS,
  );
});
