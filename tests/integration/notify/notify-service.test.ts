import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import { loadConfig } from '../../../src/config/config.js';
import { startNotify, type NotifyHandle } from '../../../src/commands/notify.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createTopics, REGISTRY_URL, testKafka } from '../../support/kafka.js';
import { HttpReceiver } from '../../support/notify-receivers.js';
import { notifyEnv, notifyRun } from '../../support/notify-env.js';
import { dropSchema } from '../../support/postgres.js';
import { waitFor } from '../stream/stream-support.js';
import { burst } from './notify-support.js';

type Event = { type: string; data: { alerts: { alertId: string; status: string; kind?: string; type?: string }[] } };

describe('driftstream notify over the alerts topic', () => {
  const run = notifyRun('notify-svc');
  const kafka = testKafka();
  const producer = kafka.producer();
  let hook: HttpReceiver;
  let handle: NotifyHandle;

  beforeAll(async () => {
    hook = await HttpReceiver.start();
    const modelsFile = join(tmpdir(), `${run.runId}-models.yaml`);
    writeFileSync(
      modelsFile,
      [
        'models: []',
        'channels:',
        '  - id: pipeline',
        '    type: webhook',
        `    url: ${hook.url}`,
        '    groupWait: 500ms',
        '    match:',
        '      - kinds: [FEATURE_DRIFT, RETRAIN_RECOMMENDED]',
        '',
      ].join('\n'),
    );
    await createTopics(kafka, [run.alertsTopic]);
    await producer.connect();
    const config = loadConfig({ ...notifyEnv(run, modelsFile), DRIFTSTREAM_HTTP_PORT: '0' });
    handle = await startNotify(config, { startFrom: 'earliest', logger: createLogger('silent') });
  });

  afterAll(async () => {
    await handle?.close();
    await producer.disconnect();
    await hook?.close();
    await dropSchema(run.databaseSchema);
  });

  it('routes Avro DriftAlerts and JSON records of other types by rule, skips what is not an alert, and serves the log', async () => {
    const codec = new EventCodec({ registryUrl: REGISTRY_URL });
    const schemaId = await codec.register(`${run.alertsTopic}-value`, 'DriftAlert');
    const drift = burst(3).map((r) => codec.encode(schemaId, { ...r.raw, modelVersion: null, referenceId: 'ref-1' }));
    const retrain = JSON.stringify({ type: 'RETRAIN_RECOMMENDED', alertId: 'retrain-1', modelId: 'credit-risk', status: 'FIRING', evidence: { weightedShare: 0.62 } });
    const quality = JSON.stringify({ ...burst(1, {}, 'dq')[0].raw, kind: 'DATA_QUALITY' });
    await producer.send({
      topic: run.alertsTopic,
      messages: [...drift.map((value) => ({ key: 'credit-risk', value })), { key: 'credit-risk', value: retrain }, { key: 'credit-risk', value: quality }, { key: 'x', value: '{"no":"ids"}' }, { key: 'x', value: 'not json' }],
    });
    await waitFor(() => hook.accepted.length === 2, 30_000, 'two messages at the webhook');
    const events = hook.accepted.map((r) => r.json as Event).sort((a, b) => a.type.localeCompare(b.type));
    expect(events.map((e) => e.type)).toEqual(['io.driftstream.alert.firing', 'io.driftstream.retrain.recommended']);
    expect(events[0].data.alerts.map((a) => a.alertId).sort()).toEqual(['a-0', 'a-1', 'a-2']);
    expect(events[1].data.alerts[0]).toMatchObject({ alertId: 'retrain-1', type: 'RETRAIN_RECOMMENDED' });

    const log = async () => (await handle.http!.app.inject({ url: '/api/v1/notifications?channelId=pipeline' })).json();
    // The receiver has answered; the log records it right after.
    await waitFor(async () => (await log()).notifications.every((n: { state: string }) => n.state === 'delivered'), 10_000, 'the log to record the deliveries');
    expect((await log()).notifications.map((n: { alertId: string; state: string }) => `${n.alertId}:${n.state}`).sort()).toEqual(['a-0:delivered', 'a-1:delivered', 'a-2:delivered', 'retrain-1:delivered']);
    const text = (await handle.http!.app.inject({ url: '/metrics' })).body;
    expect(text).toMatch(/driftstream_notifications_total\{channel="pipeline",outcome="delivered"\} 4/);
    expect(text).toMatch(/driftstream_notify_records_invalid_total\{reason="alert_record_invalid"\} 1/);
    expect(text).toMatch(/driftstream_notify_records_invalid_total\{reason="decode_failed"\} 1/);
  });
});
