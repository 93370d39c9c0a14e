// A registry that refuses the DriftAlert schema (the alerts subject holds an incompatible schema under
// a BACKWARD rule), against the real Apicurio registry and broker: the detector starts, /readyz fails
// naming SCHEMA_INCOMPATIBLE, alerts wait instead of being dropped, and once the subject accepts the
// schema (an operator relaxes its rule) registration succeeds on its own and alerts are published.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { MemoryModelRepository } from '../../../src/adapters/memory/index.js';
import { KafkaAlertSink } from '../../../src/adapters/kafka/kafka-alert-sink.js';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import { startDetector, type DetectorHandle } from '../../../src/app/detector.js';
import type { DriftAlert } from '../../../src/core/events.js';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import { buildApp } from '../../../src/http/app.js';
import { UnavailableError } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { REGISTRY_URL, testKafka, uniqueName } from '../../support/kafka.js';
import { httpConfig } from '../../unit/http/fixtures.js';
import { AlertCollector, createStreamTopics, streamConfig, waitFor, type StreamTopics } from './stream-support.js';

const kafka = testKafka();
const handles: DetectorHandle[] = [];
let producer: Producer;

/** Sets a subject's compatibility rule through the registry's Confluent-compatible API. */
async function setCompatibility(subject: string, compatibility: 'BACKWARD' | 'NONE'): Promise<void> {
  const r = await fetch(`${REGISTRY_URL}/config/${encodeURIComponent(subject)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility }),
  });
  expect(r.ok).toBe(true);
}

/** Makes the alerts topic's subject refuse DriftAlert: it holds the InferenceEvent schema under a BACKWARD rule. */
async function takeAlertSubject(topics: StreamTopics): Promise<string> {
  const subject = `${topics.alerts}-value`;
  await setCompatibility(subject, 'BACKWARD');
  await new EventCodec({ registryUrl: REGISTRY_URL }).register(subject, 'InferenceEvent');
  return subject;
}

beforeAll(async () => {
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

afterAll(async () => {
  for (const h of handles) await h.stop().catch(() => {});
  await producer?.disconnect();
});

describe('a registry refusing the DriftAlert schema (real Apicurio and Kafka)', () => {
  it('starts, fails /readyz naming SCHEMA_INCOMPATIBLE, and turns ready on its own once the subject accepts the schema', async () => {
    const topics = await createStreamTopics(kafka, 'alert-schema');
    const subject = await takeAlertSubject(topics);
    const model = parseModelConfig({ modelId: uniqueName('schema-refused'), features: { x: 'numeric' } });
    const detector = await startDetector(streamConfig(topics), { models: new MemoryModelRepository() }, { models: [model] });
    handles.push(detector);
    await detector.joined;
    const app = await buildApp({
      config: httpConfig(),
      models: new MemoryModelRepository(),
      results: detector.results,
      healthChecks: [],
      streamProgress: detector.progress,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: createLogger('silent'),
    });
    try {
      let r = await app.inject({ url: '/readyz' });
      expect(r.statusCode).toBe(503);
      const body = r.json();
      expect(body.code).toBe('NOT_READY');
      expect(body.checks['schema-registry']).toBe('down');
      expect(body.refusals).toEqual([{ dependency: 'schema-registry', code: 'SCHEMA_INCOMPATIBLE', message: expect.stringContaining(subject) }]);
      expect(body.message).toContain('schema-registry refuses: SCHEMA_INCOMPATIBLE');

      // The operator relaxes the subject's rule: the retried registration succeeds without a restart.
      await setCompatibility(subject, 'NONE');
      await waitFor(async () => (await app.inject({ url: '/readyz' })).statusCode === 200, 40_000, '/readyz to turn ready');
      r = await app.inject({ url: '/readyz' });
      expect(r.json()).toEqual({ status: 'ready', checks: {} });
    } finally {
      await app.close();
    }
  });

  it('holds alerts back with a retriable error while refused, and publishes them once registered', async () => {
    const topics = await createStreamTopics(kafka, 'alert-schema-sink');
    const subject = await takeAlertSubject(topics);
    const codec = new EventCodec({ registryUrl: REGISTRY_URL });
    const sink = new KafkaAlertSink(producer, codec, { alertsTopic: topics.alerts, metricsTopic: topics.metrics, registrationRetryMs: { initial: 200, max: 500 } });
    try {
      await sink.init();
      expect(sink.refusals().map((x) => x.code)).toEqual(['SCHEMA_INCOMPATIBLE']);
      const alert: DriftAlert = {
        alertId: uniqueName('alert'),
        modelId: 'm',
        modelVersion: null,
        kind: 'FEATURE_DRIFT',
        feature: 'x',
        statistic: 'psi',
        value: 0.5,
        threshold: 0.25,
        severity: 'CRITICAL',
        status: 'FIRING',
        windowName: '1m',
        windowStart: 0,
        windowEnd: 60_000,
        sampleSize: 100,
        referenceId: 'r',
        detectedAt: 60_000,
        details: {},
      };
      const refused = await sink.publishAlerts([alert]).then(() => undefined, (err: unknown) => err);
      expect(refused).toBeInstanceOf(UnavailableError);
      expect(refused).toMatchObject({ retriable: true, dependency: 'schema-registry' });

      await setCompatibility(subject, 'NONE');
      await waitFor(() => sink.refusals().length === 0, 20_000, 'the DriftAlert schema to be registered');
      const collector = new AlertCollector(kafka, topics.alerts, codec);
      await collector.start();
      try {
        await sink.publishAlerts([alert]);
        await waitFor(() => collector.alerts.length === 1, 20_000, 'the alert on the alerts topic');
        expect(collector.alerts[0].alert.alertId).toBe(alert.alertId);
      } finally {
        await collector.stop();
      }
    } finally {
      sink.close();
    }
  });
});
