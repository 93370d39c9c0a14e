import { afterAll, beforeAll } from 'vitest';
import type { Producer } from 'kafkajs';
import { startDetector, type DetectorHandle } from '../../../src/app/detector.js';
import { MemoryAlertStateStore } from '../../../src/adapters/memory/memory-alert-state-store.js';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import { MemoryResultRepository } from '../../../src/adapters/memory/memory-result-repository.js';
import { parseModelConfig, type ModelConfig } from '../../../src/core/model/model-config.js';
import type { ReferenceProfile } from '../../../src/core/profile/reference-profile.js';
import { testKafka } from '../../support/kafka.js';
import { AlertCollector, TrafficProducer, createStreamTopics, streamConfig, type StreamTopics } from './stream-support.js';

/** What a stream test shares: its producer, topics, alert collector, traffic producer and the detectors it started. */
export interface StreamHarness {
  readonly kafka: ReturnType<typeof testKafka>;
  producer: Producer;
  topics: StreamTopics;
  collector: AlertCollector;
  traffic: TrafficProducer;
  readonly handles: DetectorHandle[];
}

/**
 * Registers the suite's beforeAll (a run's own topics named after `prefix`,
 * an alert collector and a traffic producer) and afterAll (stops the
 * detectors in `handles`, the collector and the producer). The fields are
 * filled when beforeAll has run.
 */
export function useStreamHarness(prefix: string): StreamHarness {
  const h = { kafka: testKafka(), handles: [] as DetectorHandle[] } as unknown as StreamHarness;
  beforeAll(async () => {
    h.producer = h.kafka.producer();
    await h.producer.connect();
    h.topics = await createStreamTopics(h.kafka, prefix);
    h.collector = new AlertCollector(h.kafka, h.topics.alerts);
    await h.collector.start();
    h.traffic = new TrafficProducer(h.producer, h.topics.inference);
    await h.traffic.init();
  });
  afterAll(async () => {
    for (const d of h.handles) await d.stop().catch(() => {});
    await h.collector?.stop();
    await h.producer?.disconnect();
  });
  return h;
}

/**
 * Starts a detector of `model` on the harness's topics with `profile` as its
 * stored reference (memory model, alert-state and result repositories) and
 * waits until it joined its group; returns it and its result repository.
 */
export async function startWithReference(h: StreamHarness, model: ModelConfig, profile: ReferenceProfile): Promise<{ detector: DetectorHandle; results: MemoryResultRepository }> {
  const models = new MemoryModelRepository();
  await models.putModel({ modelId: model.modelId });
  await models.addReference(model.modelId, profile.id, profile);
  const results = new MemoryResultRepository();
  const detector = await startDetector(streamConfig(h.topics), { models, alertState: new MemoryAlertStateStore(), results }, { models: [model] });
  h.handles.push(detector);
  await detector.joined;
  return { detector, results };
}

/**
 * A model of the end-to-end tests: one 2 s tumbling window (the pane) with 1 s of
 * allowed lateness, so a few seconds of event time close windows; `fields` add to it.
 */
export function paneModel(modelId: string, fields: Record<string, unknown>): ModelConfig {
  return parseModelConfig({ modelId, windows: [{ name: '2s', size: '2s' }], allowedLateness: '1s', ...fields });
}
