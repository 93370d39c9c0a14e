// Notify chaos test: two `driftstream notify` replicas share one delivery log and one consumer group
// on the alerts topic while bursts of alerts are published; the webhook receiver is down (503) for a
// while, then throttles (429) now and then; one replica is SIGKILLed mid-burst and restarted.
// Afterwards every (alertId, status, severity) has reached the receiver, each in exactly one message
// (one CloudEvents id, which resends keep), every request carried a valid signature, and the log
// holds every notification as delivered.
//
// `npm test` runs the reduced variant (receiver down 2 s, 30 bursts, one kill); `npm run test:chaos`
// the full one (down 60 s, 240 bursts over about 100 s, two kills). NOTIFY_CHAOS_* variables override either.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature, SIGNATURE_HEADER } from '../../src/core/notify/webhook-signature.js';
import { createPgPool } from '../../src/adapters/postgres/pg-pool.js';
import { PostgresNotificationLog } from '../../src/adapters/postgres/postgres-notification-log.js';
import { createTopics, testKafka } from '../support/kafka.js';
import { DATABASE_URL, dropSchema } from '../support/postgres.js';
import { HttpReceiver, type ReceivedRequest } from '../support/notify-receivers.js';
import { notifyEnv, notifyRun } from '../support/notify-env.js';
import { sleep, waitFor } from '../integration/stream/stream-support.js';
import { DetectorProcess } from './detector-process.js';

const FULL = process.env.CHAOS_FULL === '1';
const DOWN_MS = Number(process.env.NOTIFY_CHAOS_DOWN_MS ?? (FULL ? 60_000 : 2_000));
const BURSTS = Number(process.env.NOTIFY_CHAOS_BURSTS ?? (FULL ? 240 : 30));
const KILLS = Number(process.env.NOTIFY_CHAOS_KILLS ?? (FULL ? 2 : 1));
const FEATURES = 6;
const BURST_GAP_MS = FULL ? 400 : 150;
const SECRET = 'chaos-webhook-secret-0123456789';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const run = notifyRun('notify-chaos');
const artifacts = join(ROOT, 'test-artifacts', 'notify-chaos', run.runId);
const kafka = testKafka('driftstream-notify-chaos');

type Alert = { alertId: string; status: string; severity: string };

/** How many times the replica has logged its start. */
function started(p: DetectorProcess): number {
  return readFileSync(p.logFile, 'utf8').split('\n').filter((l) => l.includes('"notifier started"')).length;
}
const keyOf = (a: Alert) => `${a.alertId}|${a.status}|${a.severity}`;

/** The records of burst `b`: FIRING for every feature; every third burst escalates, every fourth resolves. */
function burstRecords(b: number): Record<string, unknown>[] {
  const windowStart = Date.UTC(2026, 0, 1) + b * 60_000;
  return Array.from({ length: FEATURES }, (_, f) => {
    const base = {
      alertId: `chaos-${b}-${f}`,
      modelId: `model-${b % 5}`,
      kind: 'FEATURE_DRIFT',
      feature: `f${f}`,
      statistic: 'wasserstein',
      value: 0.3,
      threshold: 0.1,
      windowName: '1m',
      windowStart,
      windowEnd: windowStart + 60_000,
      sampleSize: 1000,
      detectedAt: windowStart + 61_000,
      details: {},
    };
    const out = [{ ...base, severity: 'WARNING', status: 'FIRING' }];
    if (b % 3 === 0) out.push({ ...base, severity: 'CRITICAL', status: 'FIRING' });
    if (b % 4 === 0) out.push({ ...base, severity: out.at(-1)!.severity, status: 'RESOLVED' });
    return out;
  }).flat();
}

describe('notify chaos: receivers down, a replica killed -9 mid-burst, two replicas', () => {
  let hook: HttpReceiver;
  let producer: Producer;
  const replicas: DetectorProcess[] = [];
  let downUntil = 0;

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    hook = await HttpReceiver.start((r: ReceivedRequest) => {
      const v = verifySignature(SECRET, r.headers[SIGNATURE_HEADER] as string | undefined, r.body, Math.floor(Date.now() / 1000));
      return v.ok ? [] : [`signature: ${v.reason}`];
    });
    // Down (503) until downUntil; after that one request in seven is throttled (429).
    hook.answer = (n) => (Date.now() < downUntil ? { status: 503 } : n % 7 === 0 ? { status: 429, headers: { 'retry-after': '1' } } : 'accept');
    const modelsFile = join(artifacts, 'models.yaml');
    writeFileSync(
      modelsFile,
      [
        'models: []',
        'channels:',
        '  - id: chaos',
        '    type: webhook',
        `    url: ${hook.url}`,
        '    secretFrom: { env: DRIFTSTREAM_NOTIFY_CHAOS_SECRET }',
        '    groupWait: 300ms',
        '    timeout: 2s',
        '    retry: { maxAttempts: 100, baseDelay: 200ms, maxDelay: 2s }',
        '    breaker: { failures: 5, cooldown: 1s }',
        '',
      ].join('\n'),
    );
    await createTopics(kafka, [run.alertsTopic], 2);
    producer = kafka.producer();
    await producer.connect();
    const env = notifyEnv(run, modelsFile, { DRIFTSTREAM_NOTIFY_CHAOS_SECRET: SECRET, DRIFTSTREAM_LOG_LEVEL: 'info' });
    for (const name of ['a', 'b']) {
      const p = new DetectorProcess(`notify-${name}`, env, join(artifacts, `notify-${name}.log`), undefined, ['notify', '--no-http', '--start-from', 'earliest']);
      p.start();
      replicas.push(p);
    }
    await Promise.all(replicas.map((p) => waitFor(() => started(p) === 1, 45_000, `${p.name} to start`)));
  }, 60_000);

  afterAll(async () => {
    for (const p of replicas) await p.stop(15_000).catch(() => undefined);
    await producer?.disconnect();
    await hook?.close();
    await dropSchema(run.databaseSchema).catch(() => undefined);
  }, 60_000);

  it('delivers every alert, each (alertId, status, severity) in exactly one message, and loses none', async () => {
    const expected = new Set<string>();
    const restarts: Promise<void>[] = [];
    downUntil = Date.now() + DOWN_MS;
    const killAt = new Set(Array.from({ length: KILLS }, (_, k) => Math.floor(((k + 1) * BURSTS) / (KILLS + 1))));
    for (let b = 0; b < BURSTS; b++) {
      const records = burstRecords(b);
      for (const r of records) expected.add(keyOf(r as Alert));
      await producer.send({ topic: run.alertsTopic, messages: records.map((r) => ({ key: r.modelId as string, value: JSON.stringify(r) })) });
      if (killAt.has(b)) {
        // Killed mid-burst, restarted a second later while the bursts go on.
        const victim = replicas[b % 2];
        const before = started(victim);
        await victim.kill();
        restarts.push(
          sleep(1_000).then(async () => {
            victim.start();
            await waitFor(() => started(victim) === before + 1, 45_000, `${victim.name} to start again`);
          }),
        );
      }
      await sleep(BURST_GAP_MS);
    }

    await Promise.all(restarts);
    const received = () => hook.accepted.flatMap((r) => (r.json as { id: string; data: { alerts: Alert[] } }).data.alerts.map((a) => ({ key: keyOf(a), id: (r.json as { id: string }).id })));
    const missing = () => [...expected].filter((k) => !received().some((x) => x.key === k));
    await waitFor(() => missing().length === 0, FULL ? 600_000 : 90_000, 'every alert at the receiver').catch((err: Error) => {
      throw new Error(`${err.message}: ${missing().length} of ${expected.size} missing, e.g. ${missing().slice(0, 3).join(', ')}`);
    });

    // Each key in exactly one message; a key received twice came in a resend of that same message.
    const idsByKey = new Map<string, Set<string>>();
    const copies = new Map<string, number>();
    for (const x of received()) {
      idsByKey.set(x.key, (idsByKey.get(x.key) ?? new Set()).add(x.id));
      copies.set(x.key, (copies.get(x.key) ?? 0) + 1);
    }
    const inTwoMessages = [...idsByKey].filter(([, ids]) => ids.size > 1).map(([k]) => k);
    const resentKeys = [...copies].filter(([, n]) => n > 1).length;
    const messageIds = hook.accepted.map((r) => (r.json as { id: string }).id);
    const resentMessages = messageIds.length - new Set(messageIds).size;
    const summary = { expected: expected.size, requests: hook.requests, accepted: hook.accepted.length, distinctMessages: new Set(messageIds).size, resentMessages, resentKeys, kills: KILLS, downMs: DOWN_MS };
    writeFileSync(join(artifacts, 'summary.json'), JSON.stringify(summary, null, 2));
    console.log(`notify chaos: ${JSON.stringify(summary)}`);
    expect(hook.problems).toEqual([]);
    expect(inTwoMessages).toEqual([]);
    expect(new Set(received().map((x) => x.key))).toEqual(expected);
    // A resend (same id) only follows a kill: the killed replica's messages in flight.
    expect(resentMessages).toBeLessThanOrEqual(KILLS * 20);

    const pool = createPgPool(DATABASE_URL, { schema: run.databaseSchema });
    try {
      const log = new PostgresNotificationLog(pool);
      await waitFor(async () => (await log.list({ state: 'pending', limit: 1 })).notifications.length === 0, 20_000, 'no pending notification in the log');
      expect((await log.list({ state: 'dead', limit: 1 })).notifications).toEqual([]);
      const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM notification_deliveries WHERE state = 'delivered'");
      expect(Number(rows[0].n)).toBe(expected.size);
    } finally {
      await pool.end();
    }
  }, FULL ? 900_000 : 180_000);
});
