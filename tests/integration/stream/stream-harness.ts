import { afterAll, beforeAll } from 'vitest';
import type { Producer } from 'kafkajs';
import type { DetectorHandle } from '../../../src/app/detector.js';
import { testKafka } from '../../support/kafka.js';
import { AlertCollector, TrafficProducer, createStreamTopics, type StreamTopics } from './stream-support.js';

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
