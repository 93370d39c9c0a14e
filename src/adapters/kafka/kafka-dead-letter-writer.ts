import type { CompressionTypes, Producer } from 'kafkajs';
import { UnavailableError } from '../../errors.js';
import { deadLetterHeaders, type DeadLetter, type DeadLetterSink } from '../../stream/processing-error-policy.js';

/**
 * Writes records that cannot be processed to the dead-letter topic: key,
 * value, original headers and timestamp unchanged, plus the
 * `driftstream-error` (`<reason>: <message>`), `driftstream-source-topic`,
 * `driftstream-source-partition` and `driftstream-source-offset` headers.
 * A record lands on the DLQ partition of its source partition, so the DLQ
 * keeps the source order.
 */
export class KafkaDeadLetterWriter implements DeadLetterSink {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly compression?: CompressionTypes,
  ) {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    try {
      await this.producer.send({
        topic: this.topic,
        compression: this.compression,
        messages: letters.map((l) => ({
          key: l.record.key,
          value: l.record.value,
          headers: deadLetterHeaders(l),
          timestamp: l.record.timestamp,
        })),
      });
    } catch (err) {
      throw new UnavailableError('kafka', `could not write ${letters.length} record(s) to the dead-letter topic ${this.topic}: ${(err as Error).message}`, { cause: err });
    }
  }
}
