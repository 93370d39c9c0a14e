import type { PredictionKind } from '../model/model-config.js';

/** Predictions and labels as the performance counters read them. */


/** What the performance counters need to know about a model. */
export interface PerformanceSpec {
  readonly kind: PredictionKind;
  /** The positive class, as a string (`"1"`, `"fraud"`); booleans read as `"1"`/`"0"`. Default `"1"`. */
  readonly positiveClass: string;
  /** A score at or above this is a positive prediction (kind `score`). Default 0.5. */
  readonly decisionThreshold: number;
  /**
   * `predictedClass`: the score is the confidence of the predicted class (a
   * multi-class `class` model), so Brier and the score histograms measure it
   * against whether the prediction was right, not against the positive class.
   */
  readonly scoreOf?: 'predictedClass';
}

/** What the performance counters need from a model's configuration. */
export function performanceSpecOf(config: {
  prediction: PredictionKind;
  positiveClass: string;
  scoreOf?: 'predictedClass';
  performance: { decisionThreshold: number };
}): PerformanceSpec {
  return {
    kind: config.prediction,
    positiveClass: config.positiveClass,
    decisionThreshold: config.performance.decisionThreshold,
    ...(config.scoreOf === 'predictedClass' && config.prediction === 'class' ? { scoreOf: config.scoreOf } : {}),
  };
}

export const DEFAULT_PERFORMANCE_SPEC: PerformanceSpec = Object.freeze({ kind: 'score', positiveClass: '1', decisionThreshold: 0.5 });

/**
 * The compact, self-contained record an inference leaves for its label: all a
 * label needs to add to the counters of the inference's panes, without the
 * model's configuration.
 */
export interface InferenceRecord {
  readonly modelId: string;
  readonly eventId: string;
  /** Inference event time, epoch ms. */
  readonly timestamp: number;
  readonly kind: PredictionKind;
  /** 1 when the prediction is the positive class, 0 when not, null when unknown (score/class kinds). */
  readonly predictedPositive: 0 | 1 | null;
  /** Positive-class probability (or, with {@link scoreOf}, the predicted class's confidence), clamped to [0, 1]; null when absent. */
  readonly score: number | null;
  /** `predictedClass` when the score is the predicted class's confidence (see {@link PerformanceSpec.scoreOf}). */
  readonly scoreOf?: 'predictedClass';
  /** The predicted class (kind `class`), or null. */
  readonly predictedClass: string | null;
  /** The predicted number (kind `regression`), or null. */
  readonly predictedValue: number | null;
  readonly positiveClass: string;
  /** Pane lengths (ms) whose counters this inference adds to: one per distinct window slide. */
  readonly paneSizes: readonly number[];
}

/** A ground-truth label, normalized for the counters. */
export interface LabelRecord {
  readonly modelId: string;
  readonly eventId: string;
  /** Label event time, epoch ms (the label delay is this minus the inference time). */
  readonly timestamp: number;
  /** The label as a class key (`true` → `"1"`, `2.0` → `"2"`). */
  readonly labelClass: string;
  /** The label as a number, when it is one (booleans read 1/0); null otherwise. */
  readonly labelValue: number | null;
}

/** Maps a label or prediction value to the class key the counters compare. */
export function classKey(value: number | string | boolean): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return String(value);
  return value;
}

/** Reads a label or prediction as a number when it is one. */
export function numericValue(value: number | string | boolean | null | undefined): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/**
 * Builds the record an inference stores for its label. Returns undefined when
 * there is nothing to measure (no prediction and no score).
 */
export function toInferenceRecord(
  event: { eventId: string; modelId: string; timestamp: number; prediction: number | string | null; score: number | null },
  spec: PerformanceSpec,
  paneSizes: readonly number[],
): InferenceRecord {
  const score = event.score === null || !Number.isFinite(event.score) ? null : Math.min(1, Math.max(0, event.score));
  let predictedPositive: 0 | 1 | null = null;
  let predictedClass: string | null = null;
  let predictedValue: number | null = null;
  if (spec.kind === 'regression') {
    predictedValue = numericValue(event.prediction) ?? (event.score === null ? null : event.score);
  } else if (spec.kind === 'score') {
    if (score !== null) predictedPositive = score >= spec.decisionThreshold ? 1 : 0;
    else if (event.prediction !== null) predictedPositive = classKey(event.prediction) === spec.positiveClass ? 1 : 0;
  } else {
    if (event.prediction !== null) predictedClass = classKey(event.prediction);
    // A confidence without its class says nothing about which class was predicted.
    else if (score !== null && spec.scoreOf !== 'predictedClass') predictedClass = score >= spec.decisionThreshold ? spec.positiveClass : `not ${spec.positiveClass}`;
    if (predictedClass !== null) predictedPositive = predictedClass === spec.positiveClass ? 1 : 0;
  }
  return {
    modelId: event.modelId,
    eventId: event.eventId,
    timestamp: event.timestamp,
    kind: spec.kind,
    predictedPositive,
    score: spec.kind === 'regression' ? null : score,
    predictedClass,
    predictedValue,
    positiveClass: spec.positiveClass,
    ...(spec.scoreOf === 'predictedClass' && spec.kind === 'class' ? { scoreOf: spec.scoreOf } : {}),
    paneSizes: normalizePaneSizes(paneSizes),
  };
}

/**
 * Distinct pane sizes, ascending. An already normalized array (the usual
 * case: callers compute a model's pane sizes once) is returned as is, so
 * building a record allocates nothing for it.
 */
export function normalizePaneSizes(paneSizes: readonly number[]): readonly number[] {
  for (let i = 1; i < paneSizes.length; i++) {
    if (!(paneSizes[i] > paneSizes[i - 1])) return [...new Set(paneSizes)].sort((a, b) => a - b);
  }
  return paneSizes;
}

/** Normalizes a ground-truth event for the counters. */
export function toLabelRecord(event: { eventId: string; modelId: string; timestamp: number; label: number | string | boolean }): LabelRecord {
  return {
    modelId: event.modelId,
    eventId: event.eventId,
    timestamp: event.timestamp,
    labelClass: classKey(event.label),
    labelValue: numericValue(event.label),
  };
}
