import { setTimeout as sleep } from 'node:timers/promises';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { EventCodec } from '../registry/event-codec.js';
import { isRetriable } from '../../errors.js';
import { commitOffsetsOrRejoin } from './kafka-client.js';
import { consumeManually, leaveGroup, onConsumerCrash } from './consumer-lifecycle.js';

/** One record of the alerts topic, decoded (Avro or JSON), or why it could not be. */
export type AlertTopicValue = { readonly value: unknown; readonly error?: undefined } | { readonly value?: undefined; readonly error: Error };

export interface AlertSubscriberOptions {
  readonly topic: string;
  readonly groupId: string;
  readonly startFrom?: 'earliest' | 'latest';
  readonly sessionTimeoutMs?: number;
  /** Takes a batch's records; the batch's offsets are committed once it resolves. A retriable error is retried. */
  readonly onRecords: (values: readonly AlertTopicValue[]) => Promise<void>;
  readonly logger: Logger;
  /** A failure kafkajs does not restart from. */
  readonly onFatal: (err: Error) => void;
}

export interface AlertSubscriber {
  stop(): Promise<void>;
}

/**
 * A consumer group on the alerts topic, apart from the detector's: each batch
 * is decoded and handed to `onRecords`, and its offsets are committed only
 * after that resolved, so a subscriber killed mid-batch reads it again (at
 * least once; the notification log makes the replay harmless).
 */
export async function startAlertSubscriber(kafka: Kafka, codec: EventCodec, o: AlertSubscriberOptions): Promise<AlertSubscriber> {
  const consumer = kafka.consumer({ groupId: o.groupId, sessionTimeout: o.sessionTimeoutMs ?? 30_000, maxWaitTimeInMs: 250 });
  onConsumerCrash(consumer, 'notify consumer', o.logger, o.onFatal);
  const eachBatch = async ({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload) => {
    if (batch.messages.length === 0) return;
    const values: AlertTopicValue[] = [];
    for (const m of batch.messages) {
      try {
        values.push({ value: (await codec.decode(m.value)).value });
      } catch (err) {
        if (isRetriable(err)) throw err;
        values.push({ error: err as Error });
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await o.onRecords(values);
        break;
      } catch (err) {
        if (!isRetriable(err) || !isRunning() || isStale()) throw err;
        o.logger.warn({ attempt, err: (err as Error).message }, 'could not record notifications; retrying the batch');
        await sleep(Math.min(5_000, 100 * 2 ** attempt));
        await heartbeat();
      }
    }
    const last = batch.messages[batch.messages.length - 1].offset;
    resolveOffset(last);
    await commitOffsetsOrRejoin(consumer, [{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
    await heartbeat();
  };
  await consumeManually(consumer, { topic: o.topic, startFrom: o.startFrom, partitionsConsumedConcurrently: 1, eachBatch });
  return { stop: () => leaveGroup(consumer, 'notify consumer', o.logger, { stopMs: 10_000, disconnectMs: 5_000 }) };
}
