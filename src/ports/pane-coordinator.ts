/**
 * A closed pane of one model from one partition: a partial that merges with
 * the same pane of the other partitions before evaluation (summaries add).
 */
export interface PanePartial {
  modelId: string;
  paneStart: number;
  paneEnd: number;
  topic: string;
  partition: number;
  /** The serialized pane (src/core/windows). */
  state: unknown;
  /**
   * How long the complete pane must stay readable through {@link PaneCoordinator.panes}
   * (processing time): the model's longest sliding window. Small for models with
   * tumbling windows only; the coordinator's default when absent.
   */
  retainMs?: number;
}

/** A pane every partition has passed: its partials, ready to merge and evaluate. */
export interface CompletePane {
  modelId: string;
  paneStart: number;
  paneEnd: number;
  partials: unknown[];
  /** Opaque token of the election, passed back to {@link PaneCoordinator.settle}. */
  claim?: string;
}

export interface PaneProgress {
  topic: string;
  partition: number;
  /** Partitions of the topic; panes complete when every reporting partition has passed them. */
  partitionCount: number;
  /** The partition's watermark after this batch (max event time minus allowed lateness). */
  watermark: number;
  /** True when the partition has been idle past the idle timeout: it no longer holds panes back. */
  idle: boolean;
  /** Panes this partition closed since its last report. Written idempotently (keyed by partition and pane). */
  partials: PanePartial[];
}

/**
 * Merges pane partials across partitions and decides which process evaluates
 * each pane, so results do not depend on how producers keyed their records.
 * Memory: within one process. Redis: across the consumer group.
 */
export interface PaneCoordinator {
  /**
   * Records a partition's progress and closed partials. Returns the panes that
   * became complete (or received a partial after completing) and that the
   * caller was chosen to evaluate.
   */
  report(progress: PaneProgress): Promise<CompletePane[]>;
  /** Merged-pane inputs of earlier complete panes of a model, for sliding windows: partials of panes starting in [from, to). */
  panes(modelId: string, from: number, to: number): Promise<CompletePane[]>;
  /**
   * Tells the coordinator that the results of these elected panes are durable
   * (e.g. BufferedResultWriter.durable() resolved). Coordinators that lease
   * elections hand an unsettled pane to another evaluator when the lease runs
   * out, so a crash between election and write does not lose the evaluation.
   */
  settle?(panes: readonly CompletePane[]): Promise<void>;
}
