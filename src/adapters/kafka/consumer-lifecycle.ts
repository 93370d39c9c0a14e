import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { Logger } from 'pino';
import { ProcessingFailedError } from '../../stream/processing-error-policy.js';
import { settleWithin } from './kafka-client.js';

/**
 * Routes a consumer's crashes: a processing failure the error policy made fatal, or a crash kafkajs
 * does not restart, goes to `fatal`; any other is logged while kafkajs restarts the consumer.
 */
export function onConsumerCrash(consumer: Consumer, label: string, logger: Logger, fatal: (err: Error) => void): void {
  consumer.on(consumer.events.CRASH, (e) => {
    const err = e.payload.error;
    if (err instanceof ProcessingFailedError || !e.payload.restart) fatal(err);
    else logger.warn({ err: err.message }, `${label} crashed; kafkajs restarts it`);
  });
}

export interface ConsumeOptions {
  topic: string;
  startFrom?: 'earliest' | 'latest';
  partitionsConsumedConcurrently: number;
  eachBatch: (payload: EachBatchPayload) => Promise<void>;
}

/**
 * Connects, subscribes and runs a consumer that commits and resolves offsets itself: a batch's
 * offsets move only once what it carried is safe (joined, or checkpointed).
 */
export async function consumeManually(consumer: Consumer, options: ConsumeOptions): Promise<void> {
  await consumer.connect();
  await consumer.subscribe({ topics: [options.topic], fromBeginning: (options.startFrom ?? 'earliest') === 'earliest' });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
    eachBatch: options.eachBatch,
  });
}

/**
 * Stops a consumer, waiting at most `stopMs` for its batches in progress, then disconnects it within
 * `disconnectMs`; what takes longer is logged and left behind, so a shutdown always ends. `afterStop`
 * runs in between, once no batch is delivered any more.
 */
export async function leaveGroup(
  consumer: Consumer,
  label: string,
  logger: Logger,
  limits: { stopMs: number; disconnectMs: number },
  afterStop?: () => Promise<void>,
): Promise<void> {
  const { stopMs, disconnectMs } = limits;
  await settleWithin(
    consumer.stop().catch((err) => logger.warn({ err: (err as Error).message }, `${label} stop failed`)),
    stopMs,
    () => logger.warn(`${label} did not stop within ${stopMs} ms (a rebalance or a stuck batch in progress); leaving anyway`),
  );
  if (afterStop) await afterStop();
  await settleWithin(consumer.disconnect(), disconnectMs, () => logger.warn(`${label} did not disconnect within ${disconnectMs} ms; leaving anyway`));
}
