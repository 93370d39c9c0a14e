import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import { MemoryAlertStateStore } from '../../../src/adapters/memory/memory-alert-state-store.js';
import { MemoryResultRepository } from '../../../src/adapters/memory/memory-result-repository.js';
import { RedisLabelJoin } from '../../../src/adapters/redis/redis-label-join.js';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import type { GroundTruthEvent, InferenceEvent } from '../../../src/core/events.js';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import { buildApp } from '../../../src/http/app.js';
import { startDetector } from '../../../src/app/detector.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';
import { LabelJoinPerformanceReader } from '../../../src/stream/performance-reader.js';
import { REGISTRY_URL, createTopics, uniqueName } from '../../support/kafka.js';
import { rng, streamConfig, waitFor } from '../stream/stream-support.js';
import { useStreamHarness } from '../stream/stream-harness.js';
import { scoredRows, type ScoredRow } from '../../unit/core/estimation/support.js';

const REDIS_URL = process.env.DRIFTSTREAM_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PANE_MS = 2000;
const PER_WINDOW = 2000;
const modelId = uniqueName('cbpe');
const model = parseModelConfig({
  modelId,
  features: { x: 'numeric' },
  prediction: 'score',
  windows: [{ name: '2s', size: '2s' }],
  allowedLateness: '1s',
  performance: { minLabelled: 100 },
});

const h = useStreamHarness('cbpe');
let groundTruth: string;
let redis: Redis;
let join: RedisLabelJoin;
const keyPrefix = `dstest:cbpe:${randomUUID()}:`;

beforeAll(async () => {
  groundTruth = uniqueName('cbpe-ground-truth');
  await createTopics(h.kafka, [groundTruth], 3);
  redis = new Redis(REDIS_URL);
  join = new RedisLabelJoin(redis, { keyPrefix, horizonMs: 600_000 });
});

afterAll(async () => {
  if (!redis) return;
  const stream = redis.scanStream({ match: `${keyPrefix}*`, count: 1000 });
  for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.unlink(...keys);
  await redis.quit();
});

function toEvent(r: ScoredRow, ts: number, i: number): InferenceEvent {
  return { eventId: `${modelId}-${ts}-${i}`, modelId, modelVersion: 'v1', timestamp: ts, features: { x: r.x }, prediction: r.prediction, score: r.score, attributes: {} };
}

describe('estimated performance end to end (real Kafka, registry and Redis)', () => {
  it('fires ESTIMATED_PERFORMANCE before any label, and the estimate matches the realized performance once labels join', async () => {
    const reference = scoredRows(1, 10_000);
    const { profile } = await buildReferenceFromSamples(model, (async function* () {
      yield reference.map((r) => ({ x: r.x, score: r.score, prediction: r.prediction, label: r.label }));
    })(), { createdAt: Date.now() });
    expect(profile.estimation?.reliable).toBe(true);
    const models = new MemoryModelRepository();
    await models.putModel({ modelId });
    await models.addReference(modelId, profile.id, profile);
    const results = new MemoryResultRepository();
    const config = streamConfig(h.topics, { DRIFTSTREAM_GROUND_TRUTH_TOPIC: groundTruth, DRIFTSTREAM_LABEL_HORIZON: '10m' });
    const detector = await startDetector(config, { models, alertState: new MemoryAlertStateStore(), results, labelJoin: join }, { models: [model], performanceIntervalMs: 500 });
    h.handles.push(detector);
    await detector.joined;

    // Two windows like the reference, then three under a covariate shift that costs the model 0.08 accuracy.
    const first = Math.floor(Date.now() / PANE_MS) * PANE_MS - 20 * PANE_MS;
    const sds = [1, 1, 0.6, 0.6, 0.6];
    const r = rng(5);
    const sent: { event: InferenceEvent; label: number }[] = [];
    for (let w = 0; w < sds.length; w++) {
      const rows = scoredRows(100 + w, PER_WINDOW, sds[w]);
      const events = rows.map((row, i) => toEvent(row, first + w * PANE_MS + Math.floor((i * PANE_MS) / PER_WINDOW), i));
      rows.forEach((row, i) => sent.push({ event: events[i], label: row.label }));
      await h.traffic.send(events, r);
    }
    const shiftStart = first + 2 * PANE_MS;
    await waitFor(() => h.collector.alerts.some((a) => a.alert.kind === 'ESTIMATED_PERFORMANCE'), 60_000, 'an ESTIMATED_PERFORMANCE alert');
    // No label has been sent yet.
    expect((await join.stats(modelId)).joined).toBe(0);
    const estimated = h.collector.alerts.filter((a) => a.alert.kind === 'ESTIMATED_PERFORMANCE' && a.alert.status === 'FIRING').map((a) => a.alert);
    expect(estimated.every((a) => a.windowStart >= shiftStart)).toBe(true);
    expect(estimated.map((a) => a.statistic)).toContain('accuracy');

    // Now the labels.
    const codec = new EventCodec({ registryUrl: REGISTRY_URL });
    const labelSchema = await codec.register(`${groundTruth}-value`, 'GroundTruthEvent');
    const labels: GroundTruthEvent[] = sent.map(({ event, label }) => ({ eventId: event.eventId, modelId, timestamp: event.timestamp + 1000, label }));
    for (let i = 0; i < labels.length; i += 1000) {
      await h.producer.send({ topic: groundTruth, messages: labels.slice(i, i + 1000).map((l) => ({ key: modelId, value: codec.encode(labelSchema, l) })) });
    }
    await waitFor(async () => (await join.stats(modelId)).joined >= sent.length, 60_000, 'every label joined');

    const app = await buildApp({
      config: { ...config.http },
      models,
      results,
      healthChecks: [],
      metrics: createMetrics({ defaultMetrics: false }),
      logger: createLogger('silent'),
      performance: new LabelJoinPerformanceReader(join, models),
    });
    type Item = { windowStart: number; realized: { labelled: number; metrics: Record<string, number> } | null; estimated: { status: string; metrics: Record<string, number>; standardError: Record<string, number> } | null };
    let history: Item[] = [];
    await waitFor(
      async () => {
        const res = await app.inject({ method: 'GET', url: `/api/v1/models/${modelId}/performance?window=2s&limit=100` });
        history = (res.json().history as Item[]).filter((h) => h.windowStart >= first);
        return history.length === sds.length && history.every((h) => h.realized?.labelled === PER_WINDOW);
      },
      30_000,
      'realized performance of every window',
    );
    await app.close();
    const shifted = history.filter((h) => h.windowStart >= shiftStart);
    expect(shifted).toHaveLength(3);
    for (const m of ['accuracy', 'f1', 'rocAuc']) {
      let total = 0;
      for (const h of shifted) {
        expect(h.estimated?.status).toBe('estimated');
        const error = Math.abs(h.estimated!.metrics[m] - h.realized!.metrics[m]);
        // Each window: within the realized metric's 99.9% sampling range around the estimate.
        expect(error, `${m} at ${h.windowStart}`).toBeLessThan(3.29 * h.estimated!.standardError[m]);
        total += error;
      }
      expect(total / shifted.length, m).toBeLessThan(0.02);
      console.log(`${m}: estimated ${shifted.map((h) => h.estimated!.metrics[m].toFixed(4)).join(' ')}; realized ${shifted.map((h) => h.realized!.metrics[m].toFixed(4)).join(' ')}`);
    }
    const before = history.filter((h) => h.windowStart < shiftStart);
    const after = shifted[0];
    expect(before[0].realized!.metrics.accuracy - after.realized!.metrics.accuracy).toBeGreaterThan(0.05);
  });
});
