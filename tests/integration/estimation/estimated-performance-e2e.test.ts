import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import { MemoryAlertStateStore } from '../../../src/adapters/memory/memory-alert-state-store.js';
import { MemoryResultRepository } from '../../../src/adapters/memory/memory-result-repository.js';
import { RedisLabelJoin } from '../../../src/adapters/redis/redis-label-join.js';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import type { GroundTruthEvent, InferenceEvent } from '../../../src/core/events.js';
import { modelConfigToJson, parseModelConfig } from '../../../src/core/model/model-config.js';
import { buildApp } from '../../../src/http/app.js';
import { startDetector } from '../../../src/app/detector.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';
import { LabelJoinPerformanceReader } from '../../../src/stream/performance-reader.js';
import { REGISTRY_URL, createTopics, uniqueName } from '../../support/kafka.js';
import { rng, streamConfig, waitFor } from '../stream/stream-support.js';
import { paneModel, useStreamHarness } from '../stream/stream-harness.js';
import type { ModelConfig } from '../../../src/core/model/model-config.js';
import type { ReferenceProfile } from '../../../src/core/profile/reference-profile.js';
import type { Config } from '../../../src/config/config.js';
import { classRows, scoredRows, type ClassRow, type ScoredRow } from '../../unit/core/estimation/support.js';

const REDIS_URL = process.env.DRIFTSTREAM_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PANE_MS = 2000;
const PER_WINDOW = 2000;
const modelId = uniqueName('cbpe');
const model = paneModel(modelId, {
  features: { x: 'numeric' },
  prediction: 'score',
  performance: { minLabelled: 100 },
});
// A multi-class model whose score is the predicted class's probability (reference mix: accuracy 0.68; shifted: 0.59).
const multiId = uniqueName('cbpe-multi');
const multi = parseModelConfig({ ...modelConfigToJson(model), modelId: multiId, prediction: 'class', positiveClass: 'a', scoreOf: 'predictedClass' });
const REFERENCE_MIX = [0.5, 0.3, 0.2] as const;
const SHIFTED_MIX = [0.2, 0.3, 0.5] as const;

const h = useStreamHarness('cbpe');
let groundTruth: string;
let redis: Redis;
let join: RedisLabelJoin;
const keyPrefix = `dstest:cbpe:${randomUUID()}:`;

const models = new MemoryModelRepository();
const results = new MemoryResultRepository();
let config: Config;
let binaryProfile: ReferenceProfile;
let multiProfile: ReferenceProfile;

async function addReference(m: ModelConfig, rows: readonly (ScoredRow | ClassRow)[]): Promise<ReferenceProfile> {
  const samples = rows.map((r) => ({ x: r.x, score: r.score, prediction: r.prediction, label: r.label }));
  const { profile } = await buildReferenceFromSamples(m, (async function* () {
    yield samples;
  })(), { createdAt: Date.now() });
  await models.putModel({ modelId: m.modelId });
  await models.addReference(m.modelId, profile.id, profile);
  return profile;
}

beforeAll(async () => {
  groundTruth = uniqueName('cbpe-ground-truth');
  await createTopics(h.kafka, [groundTruth], 3);
  redis = new Redis(REDIS_URL);
  join = new RedisLabelJoin(redis, { keyPrefix, horizonMs: 600_000 });
  binaryProfile = await addReference(model, scoredRows(1, 10_000));
  multiProfile = await addReference(multi, classRows(1, 10_000, REFERENCE_MIX));
  config = streamConfig(h.topics, { DRIFTSTREAM_GROUND_TRUTH_TOPIC: groundTruth, DRIFTSTREAM_LABEL_HORIZON: '10m' });
  const detector = await startDetector(config, { models, alertState: new MemoryAlertStateStore(), results, labelJoin: join }, { models: [model, multi], performanceIntervalMs: 500 });
  h.handles.push(detector);
  await detector.joined;
});

afterAll(async () => {
  if (!redis) return;
  const stream = redis.scanStream({ match: `${keyPrefix}*`, count: 1000 });
  for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.unlink(...keys);
  await redis.quit();
});

function toEvent(id: string, r: ScoredRow | ClassRow, ts: number, i: number): InferenceEvent {
  return { eventId: `${id}-${ts}-${i}`, modelId: id, modelVersion: 'v1', timestamp: ts, features: { x: r.x }, prediction: r.prediction, score: r.score, attributes: {} };
}

type Sent = { event: InferenceEvent; label: number | string };
type Item = {
  windowStart: number;
  realized: { labelled: number; metrics: Record<string, number | null>; unavailable?: Record<string, string> } | null;
  estimated: { status: string; metrics: Record<string, number>; standardError: Record<string, number>; perClass?: Record<string, { predicted: number; precision: number }> } | null;
};

/** Sends one window of `rows` per entry, from `first`, and returns the events with their labels. */
async function sendWindows(id: string, first: number, windows: readonly (readonly (ScoredRow | ClassRow)[])[]): Promise<Sent[]> {
  const r = rng(5);
  const sent: Sent[] = [];
  for (let w = 0; w < windows.length; w++) {
    const rows = windows[w];
    const events = rows.map((row, i) => toEvent(id, row, first + w * PANE_MS + Math.floor((i * PANE_MS) / rows.length), i));
    rows.forEach((row, i) => sent.push({ event: events[i], label: row.label }));
    await h.traffic.send(events, r);
  }
  return sent;
}

/** Waits for an ESTIMATED_PERFORMANCE alert of model `id`: none before label joins, all from `shiftStart` on. */
async function expectEstimatedAlerts(id: string, shiftStart: number): Promise<void> {
  const ofModel = () => h.collector.alerts.filter((a) => a.alert.modelId === id && a.alert.kind === 'ESTIMATED_PERFORMANCE');
  await waitFor(() => ofModel().length > 0, 60_000, `an ESTIMATED_PERFORMANCE alert of ${id}`);
  expect((await join.stats(id)).joined).toBe(0);
  const firing = ofModel().filter((a) => a.alert.status === 'FIRING').map((a) => a.alert);
  expect(firing.every((a) => a.windowStart >= shiftStart)).toBe(true);
  expect(firing.map((a) => a.statistic)).toContain('accuracy');
}

/** Sends the labels, waits for every one to join and returns the served history of model `id` from `first`, realized and estimated. */
async function labelAndRead(id: string, sent: Sent[], first: number, windows: number): Promise<Item[]> {
  const codec = new EventCodec({ registryUrl: REGISTRY_URL });
  const labelSchema = await codec.register(`${groundTruth}-value`, 'GroundTruthEvent');
  const labels: GroundTruthEvent[] = sent.map(({ event, label }) => ({ eventId: event.eventId, modelId: id, timestamp: event.timestamp + 1000, label }));
  for (let i = 0; i < labels.length; i += 1000) {
    await h.producer.send({ topic: groundTruth, messages: labels.slice(i, i + 1000).map((l) => ({ key: id, value: codec.encode(labelSchema, l) })) });
  }
  await waitFor(async () => (await join.stats(id)).joined >= sent.length, 60_000, 'every label joined');
  const app = await buildApp({
    config: { ...config.http },
    models,
    results,
    healthChecks: [],
    metrics: createMetrics({ defaultMetrics: false }),
    logger: createLogger('silent'),
    performance: new LabelJoinPerformanceReader(join, models),
  });
  let history: Item[] = [];
  await waitFor(
    async () => {
      const res = await app.inject({ method: 'GET', url: `/api/v1/models/${id}/performance?window=2s&limit=100` });
      history = (res.json().history as Item[]).filter((h) => h.windowStart >= first);
      return history.length === windows && history.every((h) => h.realized?.labelled === PER_WINDOW);
    },
    30_000,
    'realized performance of every window',
  );
  await app.close();
  return history;
}

describe('estimated performance end to end (real Kafka, registry and Redis)', () => {
  it('fires ESTIMATED_PERFORMANCE before any label, and the estimate matches the realized performance once labels join', async () => {
    expect(binaryProfile.estimation?.reliable).toBe(true);
    // Two windows like the reference, then three under a covariate shift that costs the model 0.08 accuracy.
    const first = Math.floor(Date.now() / PANE_MS) * PANE_MS - 20 * PANE_MS;
    const sds = [1, 1, 0.6, 0.6, 0.6];
    const sent = await sendWindows(modelId, first, sds.map((sd, w) => scoredRows(100 + w, PER_WINDOW, sd)));
    const shiftStart = first + 2 * PANE_MS;
    await expectEstimatedAlerts(modelId, shiftStart);
    const history = await labelAndRead(modelId, sent, first, sds.length);
    const shifted = history.filter((h) => h.windowStart >= shiftStart);
    expect(shifted).toHaveLength(3);
    for (const m of ['accuracy', 'f1', 'rocAuc']) {
      let total = 0;
      for (const h of shifted) {
        expect(h.estimated?.status).toBe('estimated');
        const error = Math.abs(h.estimated!.metrics[m] - h.realized!.metrics[m]!);
        // Each window: within the realized metric's 99.9% sampling range around the estimate.
        expect(error, `${m} at ${h.windowStart}`).toBeLessThan(3.29 * h.estimated!.standardError[m]);
        total += error;
      }
      expect(total / shifted.length, m).toBeLessThan(0.02);
      console.log(`${m}: estimated ${shifted.map((h) => h.estimated!.metrics[m].toFixed(4)).join(' ')}; realized ${shifted.map((h) => h.realized!.metrics[m]!.toFixed(4)).join(' ')}`);
    }
    const before = history.filter((h) => h.windowStart < shiftStart);
    const after = shifted[0];
    expect(before[0].realized!.metrics.accuracy! - after.realized!.metrics.accuracy!).toBeGreaterThan(0.05);
  });

  it('estimates a multi-class model from its predicted-class probabilities: accuracy and per-class precision', async () => {
    expect(multiProfile.estimation?.classes).toEqual(['a', 'b', 'c']);
    expect(multiProfile.estimation?.reliable).toBe(true);
    // Two windows like the reference, then two where the model predicts its least sure class more often. The
    // partitions' clocks have followed the wall clock since the first test's traffic: these events start after it.
    const first = Math.ceil(Date.now() / PANE_MS) * PANE_MS + PANE_MS;
    const mixes = [REFERENCE_MIX, REFERENCE_MIX, SHIFTED_MIX, SHIFTED_MIX];
    const sent = await sendWindows(multiId, first, mixes.map((mix, w) => classRows(200 + w, PER_WINDOW, mix)));
    const shiftStart = first + 2 * PANE_MS;
    await expectEstimatedAlerts(multiId, shiftStart);
    const history = await labelAndRead(multiId, sent, first, mixes.length);
    for (const item of history) {
      const e = item.estimated!;
      expect(e.status).toBe('estimated');
      // Known truth: accuracy 0.68 before the shift and 0.59 after; the realized accuracy within 3.29 standard errors.
      const truth = item.windowStart >= shiftStart ? 0.59 : 0.68;
      expect(Math.abs(e.metrics.accuracy - truth), `accuracy at ${item.windowStart}`).toBeLessThan(0.02);
      expect(Math.abs(e.metrics.accuracy - item.realized!.metrics.accuracy!)).toBeLessThan(3.29 * e.standardError.accuracy);
      expect(Math.abs(e.perClass!.a.precision - 0.8)).toBeLessThan(0.05);
      expect(Math.abs(e.perClass!.c.precision - 0.5)).toBeLessThan(0.05);
      expect(e.metrics.precision).toBe(e.perClass!.a.precision);
      expect(e.metrics.f1).toBeNull();
      // Realized: the confidence scored against whether each prediction was right, pair by pair from what was sent.
      const rows = sent.filter((x) => x.event.timestamp >= item.windowStart && x.event.timestamp < item.windowStart + PANE_MS);
      expect(rows).toHaveLength(PER_WINDOW);
      const brier = rows.reduce((sum, x) => sum + (x.event.score! - (x.event.prediction === x.label ? 1 : 0)) ** 2, 0) / rows.length;
      expect(item.realized!.metrics.brier).toBeCloseTo(brier, 9);
      expect(item.realized!.metrics.confidenceAuc).toBeGreaterThan(0.6);
      expect(item.realized!.metrics.rocAuc).toBeNull();
      expect(item.realized!.unavailable?.rocAuc).toMatch(/every class's probability/);
    }
    console.log(`multi-class accuracy: estimated ${history.map((h) => h.estimated!.metrics.accuracy.toFixed(4)).join(' ')}; realized ${history.map((h) => h.realized!.metrics.accuracy!.toFixed(4)).join(' ')}`);
  });
});
