import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Metrics } from '../../observability/metrics.js';
import type { GroundTruthProcessor } from '../../stream/ground-truth-processor.js';
import { ProcessingFailedError } from '../../stream/processing-error-policy.js';
import { consumeManually, leaveGroup, onConsumerCrash } from './consumer-lifecycle.js';
import { commitOffsetsOrRejoin } from './kafka-client.js';

export interface KafkaGroundTruthRunnerOptions {
  /** The ground-truth topic. */
  topic: string;
  /** The detector's group id; labels are consumed in `<groupId>-labels`. */
  groupId: string;
  startFrom?: 'earliest' | 'latest';
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  /** Something to run on a timer next to the consumer (the performance evaluator). */
  punctuator?: { punctuate(): Promise<void> };
  punctuateIntervalMs?: number;
  onFatal?: (err: Error) => void;
}

/** The consumer group of the ground-truth topic for a detector group. */
export function labelsGroupId(groupId: string): string {
  return `${groupId}-labels`;
}

/**
 * Consumes the ground-truth topic in its own consumer group,
 * `<groupId>-labels`, next to the inference consumer of the same process:
 *
 * - kafkajs rebalances eagerly, so one group over both topics would revoke
 *   every inference partition (and replay it from its checkpoint) whenever
 *   label partitions move, and the reverse;
 * - labels need no partition state (the Redis join is idempotent), so this
 *   consumer commits right after each batch is joined, while the inference
 *   consumer commits only with its checkpoints;
 * - a backlog of labels (a bulk load of a week of outcomes) then delays
 *   neither drift detection nor its lag metrics.
 *
 * A batch is committed only after its labels are in the join (or dead-
 * lettered); a crash replays them, and replays count as duplicates.
 */
export class KafkaGroundTruthRunner {
  private consumer: Consumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly processor: GroundTruthProcessor,
    private readonly options: KafkaGroundTruthRunnerOptions,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: labelsGroupId(this.options.groupId),
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 100,
    });
    this.consumer = consumer;
    onConsumerCrash(consumer, 'ground-truth consumer', this.logger, (err) => this.fatal(err));
    await consumeManually(consumer, {
      topic: this.options.topic,
      startFrom: this.options.startFrom,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 2,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    const p = this.options.punctuator;
    if (p) {
      this.timer = setInterval(() => {
        if (this.stopping) return;
        p.punctuate().catch((err) => this.logger.warn({ err: (err as Error).message }, 'performance punctuation failed'));
      }, this.options.punctuateIntervalMs ?? 5000);
      this.timer.unref();
    }
  }

  private fatal(err: Error): void {
    if (this.stopping) return;
    this.logger.fatal({ err }, 'detector stopping on an unrecoverable error in the ground-truth consumer');
    this.options.onFatal?.(err);
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    if (batch.messages.length === 0 || !isRunning() || isStale() || this.stopping) return;
    const control = { heartbeat, isRunning: () => isRunning() && !isStale() && !this.stopping };
    try {
      await this.processor.process(batch.topic, batch.partition, batch.messages, control);
    } catch (err) {
      if (err instanceof ProcessingFailedError) this.fatal(err);
      throw err;
    }
    resolveOffset(batch.lastOffset());
    await commitOffsetsOrRejoin(this.consumer!, [{ topic: batch.topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }]);
    this.metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
    await heartbeat();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    const consumer = this.consumer;
    if (!consumer) return;
    await leaveGroup(consumer, 'ground-truth consumer', this.logger, { stopMs: 10_000, disconnectMs: 5_000 });
  }
}
