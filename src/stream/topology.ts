import { InferenceProcessor, type ProcessorContext } from './inference-processor.js';

/** Timing of a {@link Topology}. */
export interface TopologyOptions {
  /** The inference topic. */
  readonly sourceTopic: string;
  /** How often each partition writes a checkpoint and commits its offset. */
  readonly checkpointIntervalMs: number;
  /** How often idle partitions are checked (processing time). */
  readonly punctuateIntervalMs: number;
}

/**
 * The detector's processing graph, in Kafka Streams' terms: one source (the
 * inference topic), one processor per assigned partition
 * ({@link InferenceProcessor}), and the sinks behind the context (alerts,
 * evaluations, dead letters). A runner (src/adapters/kafka) drives it: it
 * opens a partition's processor on assignment, feeds it batches, punctuates
 * it on a timer, commits the offsets its checkpoints name, and closes it on
 * revocation. Nothing here knows the Kafka client.
 */
export class Topology {
  constructor(
    readonly context: ProcessorContext,
    readonly options: TopologyOptions,
  ) {}

  get sourceTopic(): string {
    return this.options.sourceTopic;
  }

  /** Creates the processor of a newly assigned partition, restored from its last checkpoint. */
  async openPartition(topic: string, partition: number, partitionCount: number): Promise<InferenceProcessor> {
    const processor = new InferenceProcessor(topic, partition, partitionCount, this.context);
    const checkpoint = await this.context.checkpoints.loadCheckpoint(this.context.groupId, topic, partition);
    await processor.init(checkpoint);
    return processor;
  }

  /**
   * Tells the coordinator about assigned partitions, or partitions idle since
   * assignment: an assigned partition that never reported holds panes back
   * until it reports; one without records is reported idle after the idle timeout.
   */
  async reportPartition(topic: string, partition: number, partitionCount: number, idle: boolean): Promise<void> {
    const complete = await this.context.coordinator.report({ topic, partition, partitionCount, watermark: -Infinity, idle, partials: [] });
    await this.context.evaluator.evaluate(complete);
  }
}
