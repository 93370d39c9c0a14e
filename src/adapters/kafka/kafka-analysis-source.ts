import type { Kafka } from 'kafkajs';
import type { InferenceEvent } from '../../core/events.js';
import type { AnalysisEventSource } from '../../ports/analysis-event-source.js';
import { readTopicRange, type TopicRangeOptions } from './topic-range-reader.js';

/** Past inference events from a Kafka topic, by time range (offsets for times), for backfill analyses. */
export class KafkaAnalysisSource implements AnalysisEventSource {
  constructor(
    private readonly kafka: Kafka,
    private readonly decoder: TopicRangeOptions['decoder'],
    private readonly idleTimeoutMs = 30_000,
  ) {}

  async *topicRange(topic: string, from: number, to: number, modelId: string, stats: { skipped: number }): AsyncIterable<InferenceEvent[]> {
    const counts = { records: 0, events: 0, skipped: 0 };
    try {
      yield* readTopicRange(this.kafka, { topic, startMs: from, endMs: to, modelId, decoder: this.decoder, idleTimeoutMs: this.idleTimeoutMs }, counts);
    } finally {
      stats.skipped += counts.skipped;
    }
  }
}
