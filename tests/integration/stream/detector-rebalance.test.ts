import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import {
  MemoryAlertStateStore,
  MemoryCheckpointStore,
  MemoryModelRepository,
  MemoryPaneCoordinator,
  MemoryResultRepository,
} from '../../../src/adapters/memory/index.js';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import { readSampleBatches } from '../../../src/io/sample-reader.js';
import { startDetector, type DetectorHandle } from '../../../src/app/detector.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';
import { testKafka, uniqueName } from '../../support/kafka.js';
import { CATEGORICAL, NUMERIC, TrafficProducer, createStreamTopics, inference, rng, streamConfig, waitFor, writeReferenceSample, type StreamTopics } from './stream-support.js';

const kafka = testKafka();
let producer: Producer;
let topics: StreamTopics;
let traffic: TrafficProducer;
const handles: DetectorHandle[] = [];
const modelId = uniqueName('rebalance');
const PANE = 2000;
const PANES = 10;
const N = 40_000;
const model = parseModelConfig({
  modelId,
  features: Object.fromEntries([...NUMERIC.map((f) => [f, 'numeric']), ...CATEGORICAL.map((f) => [f, 'categorical'])]),
  windows: [{ name: '2s', size: '2s' }, { name: '6s', size: '6s', slide: '2s' }],
  allowedLateness: '1s',
});

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
  topics = await createStreamTopics(kafka, 'rebalance', 4);
  traffic = new TrafficProducer(producer, topics.inference);
  await traffic.init();
});

afterAll(async () => {
  for (const h of handles) await h.stop().catch(() => {});
  await producer?.disconnect();
});

describe('detector rebalance (real Kafka, shared state as Redis would share it)', () => {
  it('counts every event exactly once in its window when partitions move between two detectors', async () => {
    // State shared by both detectors, as RedisCheckpointStore / RedisPaneCoordinator / RedisAlertStateStore share it.
    const shared = {
      models: new MemoryModelRepository(),
      results: new MemoryResultRepository(),
      checkpoints: new MemoryCheckpointStore(),
      coordinator: new MemoryPaneCoordinator(),
      alertState: new MemoryAlertStateStore(),
    };
    const { profile } = await buildReferenceFromSamples(model, readSampleBatches(await writeReferenceSample(modelId, 3000)), { createdAt: Date.now() });
    await shared.models.putModel({ modelId });
    await shared.models.addReference(modelId, profile.id, profile);
    const config = streamConfig(topics, { DRIFTSTREAM_CHECKPOINT_INTERVAL: '300ms', DRIFTSTREAM_IDLE_TIMEOUT: '3s', DRIFTSTREAM_KAFKA_SESSION_TIMEOUT: '10s' });

    const r = rng(31);
    const base = Math.floor((Date.now() - 120_000) / PANE) * PANE;
    const events = Array.from({ length: N }, (_, i) => inference(modelId, r, base + Math.floor((i * PANE * PANES) / N), false, i));

    const a = await startDetector(config, shared, { models: [model] });
    handles.push(a);
    await a.joined;
    for (let i = 0; i < N / 2; i += 1000) await traffic.send(events.slice(i, i + 1000), r);
    await waitFor(() => a.state.counters.consumed >= N / 4, 30_000, 'detector A to get going');

    // A second detector joins the group: kafkajs revokes every partition and splits them.
    const b = await startDetector(config, shared, { models: [model] });
    handles.push(b);
    for (let i = N / 2; i < N; i += 1000) await traffic.send(events.slice(i, i + 1000), r);

    const tumbling = async () => (await shared.results.listEvaluations({ modelId, windowName: '2s', limit: 1000 })).filter((e) => e.windowStart >= base);
    try {
      await waitFor(async () => (await tumbling()).length === PANES && (await tumbling()).reduce((s, e) => s + e.sampleSize, 0) === N, 60_000, 'every pane evaluated with all its events');
    } catch (err) {
      const got = (await tumbling()).map((e) => `${(e.windowStart - base) / PANE}:${e.sampleSize}`);
      throw new Error(`${(err as Error).message}; panes ${got.join(' ')}; A ${JSON.stringify(a.state.counters)}; B ${JSON.stringify(b.state.counters)}`, { cause: err });
    }
    const evaluations = await tumbling();
    expect(evaluations.map((e) => e.windowStart).sort((x, y) => x - y)).toEqual(Array.from({ length: PANES }, (_, k) => base + k * PANE));
    for (const e of evaluations) expect(e.sampleSize).toBe(N / PANES);
    // Both detectors did part of the work.
    expect(a.state.counters.consumed).toBeGreaterThan(0);
    expect(b.state.counters.consumed).toBeGreaterThan(0);
    const sliding = (await shared.results.listEvaluations({ modelId, windowName: '6s', limit: 1000 })).filter((e) => e.windowStart >= base);
    for (const e of sliding) expect(e.sampleSize).toBe(3 * (N / PANES));
  }, 120_000);
});
