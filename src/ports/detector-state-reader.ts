import type { Evaluation } from '../core/drift/types.js';

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
  /**
   * An object that stands for the window's latest evaluation in memory: the same object until a
   * newer evaluation replaces it (undefined when there is none). The drift route keeps its answer
   * under it and serializes an evaluation once, not per request.
   */
  latestEvaluationVersion?(modelId: string, windowName: string): object | undefined;
}
