import type { DriftAlert } from '../core/events.js';
import type { Evaluation } from '../core/drift/types.js';

/**
 * Ports the stream and the HTTP service depend on, named by role. Adapters in
 * src/adapters/{memory,redis,postgres,kafka} implement them; the conformance
 * suites in tests/ run against every adapter.
 */

/** A model's declared configuration, as JSON (validated by src/core/model). */
export type ModelConfigJson = Record<string, unknown> & { modelId: string };

export interface StoredReference {
  referenceId: string;
  modelId: string;
  version: number;
  createdAt: number;
  /** The serialized profile (src/core/profile). */
  profile: unknown;
}

/** A stored model configuration and its version: 1 when created, one more on every change. */
export interface ModelEntry {
  config: ModelConfigJson;
  version: number;
}

/**
 * Models and their immutable, versioned reference profiles. Every change to
 * a model's configuration takes the next version; {@link putModelIf} is a
 * compare-and-set on it, so writers that read, decide and write (a detector
 * registering a model, an API client with If-Match) never overwrite each
 * other's changes unseen.
 */
export interface ModelRepository {
  listModels(): Promise<ModelConfigJson[]>;
  getModel(modelId: string): Promise<ModelConfigJson | undefined>;
  /** The configuration with its version. */
  getModelEntry(modelId: string): Promise<ModelEntry | undefined>;
  /** Stores a configuration unconditionally (a declaration); returns its new version. */
  putModel(config: ModelConfigJson): Promise<number>;
  /**
   * Stores a configuration only when the stored version is `expectedVersion`
   * (`null`: only when the model does not exist), atomically; returns the new
   * version, or undefined when the stored version differs (nothing written).
   */
  putModelIf(config: ModelConfigJson, expectedVersion: number | null): Promise<number | undefined>;
  deleteModel(modelId: string): Promise<boolean>;
  /** Stores a new reference version; returns it with its assigned version. */
  addReference(modelId: string, referenceId: string, profile: unknown): Promise<StoredReference>;
  latestReference(modelId: string): Promise<StoredReference | undefined>;
  getReference(referenceId: string): Promise<StoredReference | undefined>;
}

export interface AlertQuery {
  status?: 'FIRING' | 'RESOLVED';
  modelId?: string;
  since?: number;
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface WindowQuery {
  modelId: string;
  windowName?: string;
  from?: number;
  to?: number;
  limit?: number;
}

/** Drift results, performance and alert history. Writes are idempotent upserts on deterministic keys. */
export interface ResultRepository {
  saveEvaluations(evaluations: readonly Evaluation[]): Promise<void>;
  saveAlerts(alerts: readonly DriftAlert[]): Promise<void>;
  latestEvaluation(modelId: string, windowName: string): Promise<Evaluation | undefined>;
  listEvaluations(query: WindowQuery): Promise<Evaluation[]>;
  listAlerts(query: AlertQuery): Promise<{ alerts: DriftAlert[]; nextCursor?: string }>;
}

/** Where alerts and evaluation records leave the detector (the Kafka topics in production). */
export interface AlertSink {
  publishAlerts(alerts: readonly DriftAlert[]): Promise<void>;
  publishEvaluations(evaluations: readonly Evaluation[]): Promise<void>;
}

/** Per-partition checkpoints: serialized open state plus the next offset, written atomically. */
export interface PartitionCheckpoint {
  topic: string;
  partition: number;
  /** The offset of the first record not yet in `state`. */
  nextOffset: string;
  watermark: number;
  state: unknown;
  savedAt: number;
}

export interface FeatureStateStore {
  saveCheckpoint(groupId: string, checkpoint: PartitionCheckpoint): Promise<void>;
  loadCheckpoint(groupId: string, topic: string, partition: number): Promise<PartitionCheckpoint | undefined>;
}

/** A partition that has records waiting and has made no progress for the stall timeout. */
export interface StalledPartition {
  topic: string;
  partition: number;
  /** Records between the partition's position and its end (high watermark). */
  lag: number;
  /** How long the position has not moved. */
  stalledForMs: number;
}

/**
 * How the stream is doing, for /readyz: partitions stalled with records
 * waiting, and dependencies the detector is waiting out right now (a publish
 * or write retried with backoff). Fed by the detector; read by the HTTP service.
 */
export interface StreamProgress {
  stalledPartitions(): StalledPartition[];
  /** Dependencies currently being retried (e.g. `kafka` while an evaluation cannot be published). */
  waitingFor(): string[];
}

/** Reachability of a dependency for /readyz. */
export interface HealthCheck {
  name: string;
  check(): Promise<boolean>;
}

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

/**
 * Alert state that must survive restarts and be shared by evaluators:
 * hysteresis per (model, window) and the record of what was published.
 */
export interface AlertStateStore {
  loadTracker(modelId: string, windowName: string): Promise<unknown | undefined>;
  saveTracker(modelId: string, windowName: string, state: unknown): Promise<void>;
  /** True the first time a given (alertId, status, severity) is claimed; false ever after. */
  claimAlert(alert: DriftAlert): Promise<boolean>;
}
