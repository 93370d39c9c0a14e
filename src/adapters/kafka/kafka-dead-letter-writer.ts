import type { CompressionTypes, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { UnavailableError } from '../../errors.js';
import type { Metrics } from '../../observability/metrics.js';
import { deadLetterHeaders } from '../../stream/processing-error-policy.js';
import { type DeadLetter, type DeadLetterSink, type RecordHeaders } from '../../ports/dead-letter-sink.js';
import { chunkByBytes, permanentRejectionOf, recordBytes } from './record-rejection.js';

/** Header a dead-lettered record carries when its value was cut to fit the DLQ topic: the original value's size in bytes. */
export const DLQ_TRUNCATED_HEADER = 'driftstream-truncated-bytes';

export interface KafkaDeadLetterWriterOptions {
  /**
   * Largest dead-lettered record (value, key and headers). A larger value is cut to fit and carries
   * {@link DLQ_TRUNCATED_HEADER}; the default stays under the broker's default 1 MB record limit.
   */
  maxRecordBytes?: number;
  metrics?: Metrics;
  logger?: Logger;
  /** Codec of the produced batches; default none. */
  compression?: CompressionTypes;
}

interface Outgoing {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders;
  timestamp: string;
}

const DEFAULT_MAX_RECORD_BYTES = 900_000;

/**
 * Writes records that cannot be processed to the dead-letter topic: key,
 * value, original headers and timestamp unchanged, plus the
 * `driftstream-error` (`<reason>: <message>`), `driftstream-source-topic`,
 * `driftstream-source-partition` and `driftstream-source-offset` headers.
 * A record lands on the DLQ partition of its source partition, so the DLQ
 * keeps the source order.
 *
 * A record too large for the DLQ topic is still dead-lettered: its value is
 * cut to a prefix (header `driftstream-truncated-bytes` gives the original
 * size), and when the broker refuses even that, the value is dropped and only
 * the headers remain. Only an unreachable broker fails a send.
 */
export class KafkaDeadLetterWriter implements DeadLetterSink {
  private readonly maxRecordBytes: number;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly options: KafkaDeadLetterWriterOptions = {},
  ) {
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const records = letters.map((l) => this.fit(l));
    for (const chunk of chunkByBytes(records, recordBytes, this.maxRecordBytes)) await this.sendChunk(chunk);
  }

  /** The outgoing record of a letter, its value cut when the whole would exceed the limit. */
  private fit(l: DeadLetter): Outgoing {
    const out: Outgoing = { key: l.record.key, value: l.record.value, headers: deadLetterHeaders(l), timestamp: l.record.timestamp };
    const size = recordBytes(out);
    if (size <= this.maxRecordBytes || !out.value) return out;
    const keep = Math.max(0, out.value.length - (size - this.maxRecordBytes));
    return this.truncated(out, keep, l);
  }

  private truncated(out: Outgoing, keep: number, l?: DeadLetter): Outgoing {
    const original = out.headers[DLQ_TRUNCATED_HEADER] ?? String(out.value?.length ?? 0);
    this.options.metrics?.dlqTruncated.inc({ topic: this.topic });
    this.options.logger?.warn(
      { topic: this.topic, sourceTopic: l?.record.topic, partition: l?.record.partition, offset: l?.record.offset, bytes: original, kept: keep },
      'dead-lettered record cut to fit the DLQ topic',
    );
    return { ...out, value: out.value ? out.value.subarray(0, keep) : null, headers: { ...out.headers, [DLQ_TRUNCATED_HEADER]: original } };
  }

  private async sendChunk(chunk: Outgoing[]): Promise<void> {
    try {
      await this.producer.send({ topic: this.topic, messages: chunk, compression: this.options.compression });
      return;
    } catch (err) {
      const rejection = permanentRejectionOf(err);
      if (!rejection) {
        throw new UnavailableError('kafka', `could not write ${chunk.length} record(s) to the dead-letter topic ${this.topic}: ${(err as Error).message}`, { cause: err });
      }
      // The topic accepts less than we thought (its own max.message.bytes): one by one, then without values.
      if (chunk.length > 1) {
        for (const r of chunk) await this.sendChunk([r]);
        return;
      }
      const [only] = chunk;
      if (only.value && only.value.length > 0) {
        await this.sendChunk([this.truncated(only, 0)]);
        return;
      }
      this.options.metrics?.publishRejected.inc({ topic: this.topic, reason: rejection });
      this.options.logger?.error({ topic: this.topic, reason: rejection, sourceOffset: only.headers['driftstream-source-offset'], error: only.headers['driftstream-error'] }, 'the DLQ topic refused a record even without its value; recorded here only');
    }
  }
}
