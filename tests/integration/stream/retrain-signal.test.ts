import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import { RedisAlertStateStore } from '../../../src/adapters/redis/redis-alert-state-store.js';
import { readSampleBatches } from '../../../src/io/sample-reader.js';
import { startDetector } from '../../../src/app/detector.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';
import { retrainStateKey } from '../../../src/stream/window-evaluator.js';
import { uniqueName } from '../../support/kafka.js';
import { deletePrefix, testRedis, uniquePrefix } from '../../support/redis.js';
import { CATEGORICAL, NUMERIC, inference, rng, sleep, streamConfig, waitFor, writeReferenceSample } from './stream-support.js';
import { paneModel, useStreamHarness } from './stream-harness.js';

const WINDOW_MS = 2000;
const h = useStreamHarness('retrain');
let redis: Redis;
const prefix = uniquePrefix('retrain');
const modelId = uniqueName('retrain');

// f0 and c0 carry 90% of the importance; drift moves exactly those two (2 of 10 features).
const importance = Object.fromEntries([...NUMERIC, ...CATEGORICAL].map((f) => [f, f === 'f0' ? 0.5 : f === 'c0' ? 0.4 : 0.0125]));
const model = paneModel(modelId, {
  features: Object.fromEntries([...NUMERIC.map((f) => [f, 'numeric']), ...CATEGORICAL.map((f) => [f, 'categorical'])]),
  minSamples: 100,
  importance,
  datasetDriftWeightedShare: 0.8,
  retrain: { weightedDriftShare: 0.8, sustainFor: '6s' },
});

beforeAll(() => {
  redis = testRedis();
});

afterAll(async () => {
  if (redis) {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  }
});

describe('retraining signal (real Kafka, registry and Redis)', () => {
  it('publishes one RETRAIN_RECOMMENDED record with its evidence once the weighted drift has held, and never again on a replay', async () => {
    const models = new MemoryModelRepository();
    const { profile } = await buildReferenceFromSamples(model, readSampleBatches(await writeReferenceSample(modelId, 5000)), { createdAt: Date.now() });
    await models.putModel({ modelId });
    await models.addReference(modelId, profile.id, profile);
    const alertState = new RedisAlertStateStore(redis, { prefix });
    const detector = await startDetector(streamConfig(h.topics), { models, alertState }, { models: [model] });
    h.handles.push(detector);
    await detector.joined;

    // Twelve 2 s windows of past event time, drifted from the third on; the watermark passes them as events arrive.
    const r = rng(11);
    const base = Math.floor((Date.now() - 120_000) / WINDOW_MS) * WINDOW_MS;
    const driftFrom = base + 2 * WINDOW_MS;
    for (let w = 0; w < 12; w++) {
      const events = Array.from({ length: 400 }, (_, i) => inference(modelId, r, base + w * WINDOW_MS + Math.floor((i * WINDOW_MS) / 400), base + w * WINDOW_MS >= driftFrom, w * 1000 + i));
      await h.traffic.send(events, r);
    }
    const retrain = () => h.collector.alerts.filter((a) => a.alert.kind === 'RETRAIN_RECOMMENDED');
    await waitFor(() => retrain().length > 0, 30_000, 'the RETRAIN_RECOMMENDED record');
    await waitFor(() => detector.state.counters.evaluations >= 10, 30_000, 'the evaluations');
    const [{ alert }] = retrain();
    expect(alert.status).toBe('FIRING');
    expect(alert.windowName).toBe('2s');
    expect(alert.windowStart).toBe(driftFrom);
    expect(alert.windowEnd).toBe(driftFrom + 3 * WINDOW_MS);
    expect(alert.statistic).toBe('weightedDriftShare');
    expect(alert.value).toBeGreaterThanOrEqual(0.8);
    expect(alert.threshold).toBe(0.8);
    expect(alert.details['weightedDriftShare.driftingFeatures']).toBe('f0,c0');
    expect(alert.details.heldForMs).toBe(String(3 * WINDOW_MS));
    // The weighted dataset drift alert fired too, naming the most important feature first.
    const dataset = h.collector.alerts.find((a) => a.alert.kind === 'DATASET_DRIFT' && a.alert.status === 'FIRING');
    expect(dataset?.alert.details.driftingFeatures).toBe('f0,c0');
    await detector.stop();

    // A replay over the same topic (a new consumer group) publishes nothing again, even with the
    // gate's own state lost: the incident has the same id, and its claim is taken.
    await alertState.saveTracker(modelId, retrainStateKey('2s'), null);
    const again = await startDetector(streamConfig(h.topics), { models, alertState }, { models: [model] });
    h.handles.push(again);
    await again.joined;
    await waitFor(() => again.state.counters.evaluations >= 10, 30_000, 'the replayed evaluations');
    await sleep(1000);
    expect(retrain()).toHaveLength(1);
    await again.stop();
  }, 90_000);
});
