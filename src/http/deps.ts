import type { Logger } from 'pino';
import type { Readable } from 'node:stream';
import type { Config } from '../config/config.js';
import type { Evaluation, PerformanceResult } from '../core/drift/types.js';
import type { Metrics } from '../observability/metrics.js';
import type { HealthCheck, StreamProgress, ModelConfigJson, ModelRepository, ResultRepository } from '../stream/ports.js';

export type HttpConfig = Config['http'];

/** Status of a model as the API reports it. */
export type ModelStatus = 'warming_up' | 'ok' | 'drifting';

/** What the running detector knows about a model right now (beyond stored history). */
export interface ModelLiveStatus {
  status: ModelStatus;
  /** Why the model is in this status, e.g. "bootstrapping reference: 1200/5000 events". */
  reason?: string;
  /** Extra read-only facts the detector chooses to expose (events seen, last event time, ...). */
  [key: string]: unknown;
}

/**
 * The detector's read model. `driftstream run` passes the live detector
 * state; `driftstream serve` runs without one and derives status from the
 * stored evaluations.
 */
export interface DetectorStateReader {
  modelStatus(modelId: string): ModelLiveStatus | undefined | Promise<ModelLiveStatus | undefined>;
  /**
   * The detector's latest evaluation of each window of a model, held in
   * memory: the drift route answers from it without a repository round trip.
   */
  latestEvaluations?(modelId: string): readonly Evaluation[];
}

/** Latest performance of a window, written when labels join (possibly after the window was evaluated). */
export interface WindowPerformance {
  windowStart: number;
  windowEnd: number;
  performance: PerformanceResult;
  /** Label-free proxy metrics of the same window (positive rate, score mean, ...). */
  proxy?: Record<string, number | null>;
}

/** Optional source of performance joined after evaluation (the label-join store). */
export interface PerformanceReader {
  latestPerformance(modelId: string, windowName: string): Promise<WindowPerformance | undefined>;
}

export type SampleFormat = 'csv' | 'ndjson' | 'parquet' | 'arrow';

/** Limits of an upload; each has its own error code. Absent ones are not checked. */
export interface UploadLimits {
  /** Most columns (TOO_MANY_COLUMNS). */
  maxColumns?: number;
  /** Largest cell in UTF-8 bytes (CELL_TOO_LARGE). */
  maxCellBytes?: number;
  /** Most categories kept per categorical column, whatever the model's topK. */
  maxCategories?: number;
}

export interface ReferenceBuildInput {
  modelId: string;
  model: ModelConfigJson;
  format: SampleFormat;
  /** The request body, streamed; already size-limited. */
  body: Readable;
  /** Epoch milliseconds: time is passed in. */
  createdAt: number;
  /** The version the repository will most likely assign (latest + 1), recorded in the profile. */
  nextVersion?: number;
  /** Upload limits checked while the sample is read (the route passes the configured ones). */
  limits?: UploadLimits;
}

export interface BuiltReference {
  referenceId: string;
  /** Rows read from the sample. */
  rows: number;
  /** The serialized profile to store. */
  profile: unknown;
}

/** Turns an uploaded sample into a reference profile. */
export type ReferenceBuilder = (input: ReferenceBuildInput) => Promise<BuiltReference>;

/** Everything {@link buildApp} needs; nothing here talks to Kafka. */
export interface HttpDeps {
  config: HttpConfig;
  models: ModelRepository;
  results: ResultRepository;
  state?: DetectorStateReader;
  healthChecks: readonly HealthCheck[];
  /** The stream's progress (stalled partitions, dependencies waited out); /readyz fails while there are any. */
  streamProgress?: StreamProgress;
  metrics: Metrics;
  logger: Logger;
  referenceBuilder?: ReferenceBuilder;
  performance?: PerformanceReader;
  /** Validates and normalizes a model configuration from PUT; throws a DriftstreamError when invalid. */
  parseModelConfig?: (value: unknown) => ModelConfigJson;
  /** Clock for created-at stamps; tests pass a fixed one. */
  now?: () => number;
  /** Timeout of each readiness check. Default 2000 ms. */
  healthTimeoutMs?: number;
  /**
   * How long a model configuration or a window's latest evaluation read by
   * one request is reused by later ones (other processes' writes show after
   * at most this long). Default 1000 ms; 0 disables.
   */
  readCacheMs?: number;
}
