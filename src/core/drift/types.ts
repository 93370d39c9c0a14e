import type { DriftAlert } from '../events.js';

export type Severity = 'NONE' | 'WARNING' | 'CRITICAL';
export type FeatureType = 'numeric' | 'categorical';

/** The statistics of one feature in one evaluated window (the shape the API serves). */
export interface FeatureResult {
  type: FeatureType;
  nReference: number;
  nCurrent: number;
  missing: number;
  missingRate: number;
  psi?: number;
  ks?: { statistic: number; pValue: number; errorBound: number };
  wassersteinNormed?: number;
  jensenShannon?: number;
  hellinger?: number;
  chiSquare?: { statistic: number; pValue: number; dof: number };
  newCategories?: string[];
  drift: boolean;
  severity: Severity;
  /** The feature's declared importance (when the model declares any). */
  importance?: number;
  /** The verdict and its evidence (docs/detector.md): what decided, at which level, how big, and what the window could see. */
  verdict?: FeatureVerdictSummary;
  /**
   * Proportions of the reference and the current window on the same bins, for
   * plots (the API's feature route). Numeric: `edges` are the interior bin
   * edges (bins = edges.length + 1, outer bins open). Categorical:
   * `categories` name the bins (top K plus `__other__`). Optional: an
   * evaluator may omit it, and the API then derives the reference side from
   * the stored profile.
   */
  histogram?: { edges?: number[]; categories?: string[]; reference: number[]; current: number[] };
}

/**
 * A feature's verdict with its evidence, JSON-safe: numbers that are not
 * finite (an unreachable minimum detectable effect) are null.
 */
export interface FeatureVerdictSummary {
  /** `drift`, `ok`, or `insufficient`: no significant drift, and the window could not have seen an effect at the floor. */
  verdict: 'ok' | 'drift' | 'insufficient';
  /** The test that decided (smallest p-value), or `derivedWindow` for a sequential verdict. */
  test: string | null;
  /** Its unadjusted p-value. */
  pValue: number | null;
  /** The level it was compared with (Holm's step at the model's budget). */
  level: number;
  /** Effect metric of the floors: `wasserstein` (W1 in the reference's typical deviations) or `totalVariation`. */
  metric: 'wasserstein' | 'totalVariation';
  /** Effect above sampling noise, in the metric's units. */
  effect: number;
  floor: { warning: number; critical: number };
  /** Values in the window. */
  n: number;
  /** Minimum detectable effect (metric units) at 80% power and the budget's per-test level. */
  mde: number | null;
  /** Minimum detectable effect per kind of change (location, scale, shape; categoryMass, newCategory); the largest is `mde`. */
  mdes?: Record<string, number | null>;
  /**
   * Values a window would need for its minimum detectable effect to reach the
   * WARNING floor (present when the verdict is `insufficient`; null when
   * even an endless window could not, because the reference is too small).
   */
  nNeeded?: number | null;
  /** Unadjusted p-value of every test of the feature. */
  tests: Record<string, number>;
  /**
   * The derived window of the trend statistics (location, scale and mean, or
   * the largest category's share) over the last consecutive windows, when
   * sequential mode runs: the largest standardized sum (signed), the |z| it
   * must reach, the effect it estimates when it does, and the windows it holds.
   */
  sequential?: { statistic: number; threshold: number; effect: number; windows?: number };
}

/** The multivariate verdict of one window, JSON-safe (numbers that are not finite are null). */
export interface MultivariateResult {
  /** `drift`, `ok`, or `insufficient`: not significant, and the window could not have seen a rise at the WARNING floor. */
  verdict: 'ok' | 'drift' | 'insufficient';
  severity: Severity;
  /** Rows whose error was counted, and rows left out because a reconstructed feature was missing. */
  n: number;
  incomplete: number;
  /** The window's mean and standard deviation of the squared reconstruction error (standardized units). */
  meanError: number | null;
  stdError: number | null;
  /** The reference's (held-out rows). */
  reference: { mean: number; std: number; rows: number; components: number; features: number; explained: number };
  /** Relative rise of the mean error over the reference's: meanError / reference.mean - 1. */
  effect: number | null;
  /** One-sided p-value of a rise (moment-matched gamma law of the mean at the window's and the reference's sizes). */
  pValue: number | null;
  level: number;
  floor: { warning: number; critical: number };
  /** Smallest relative rise detectable at 80% power at this n and level. */
  mde: number | null;
  /**
   * Upper end of the null range: the largest mean error a window of this n
   * drawn from the reference's law reaches with probability `level` (a mean
   * above it is significant). Absent in results stored before it was kept.
   */
  nullUpper?: number | null;
}

/** Metrics estimated without labels (confidence-based, as in CBPE). */
export type EstimatedMetric = 'accuracy' | 'precision' | 'recall' | 'f1' | 'rocAuc';

/** A window's estimated performance, JSON-safe; `status: unavailable` says why there is no estimate. */
export type EstimatedPerformance =
  | {
      status: 'estimated';
      /** Scored events the estimate is made from. */
      n: number;
      /** Expected confusion matrix: sums of calibrated probabilities split by predicted class (binary models). */
      confusion?: { tp: number; fp: number; fn: number; tn: number };
      /** Multi-class models: events predicted per class, with the expected precision of those predictions and its standard error. */
      perClass?: Record<string, { predicted: number; precision: number | null; standardError: number | null }>;
      metrics: Record<EstimatedMetric, number | null>;
      /** Standard error of the realized metric around the estimate at this n (binomial; Hanley-McNeil for ROC AUC). */
      standardError: Record<EstimatedMetric, number | null>;
      /** 95% interval of the realized metric: estimate +- 1.96 standard errors, within [0, 1]. */
      interval: Record<EstimatedMetric, [number, number] | null>;
      /** Calibration the estimate rests on. */
      calibration: { labelled: number; calibrationError: number };
    }
  | { status: 'unavailable'; reason: string };

/** The verdict on one estimated metric against the reference's realized value. */
export interface EstimatedMetricVerdict {
  estimate: number;
  reference: number;
  /** Drop below the reference's realized value. */
  degradation: number;
  /** One-sided p-value of a drop, from the window's and the reference's standard errors. */
  pValue: number;
  level: number;
  severity: Severity;
}

/** A window's estimated performance with, when estimated, the verdict on each alerting metric. */
export type EstimatedPerformanceResult = EstimatedPerformance & { verdicts?: Partial<Record<EstimatedMetric, EstimatedMetricVerdict>> };

/** The verdicts of one segment of a window, in brief. */
export interface SegmentResult {
  attribute: string;
  /** The segment value, or `__other__` for the values pooled beyond the reference's top K. */
  value: string;
  n: number;
  /** Share of the window's events, and of the reference's rows. */
  share: number;
  referenceShare: number;
  /** Budget of this segment's evaluation (the segments' share split evenly). */
  level: number;
  features: Record<string, { severity: Severity; verdict: string | null; effect: number | null; pValue: number | null }>;
}

/**
 * Where a feature's change comes from, across one attribute's segments: a
 * numeric feature's change of mean (in reference standard deviations), or a
 * categorical feature's total variation distance between the window's
 * category shares and the reference's.
 */
export interface AttributionResult {
  attribute: string;
  feature: string;
  /** `mean` (numeric features) or `totalVariation` (categorical); absent in results stored before categorical attribution, meaning `mean`. */
  measure?: 'mean' | 'totalVariation';
  /** Current mean minus reference mean, over the window; or the total variation distance (0..1). */
  change: number;
  /** Part due to the segments' shares moving. */
  mix: number;
  /** Part due to the segments' own means (category shares) moving. */
  within: number;
  /** Largest contributions first (top 5). */
  segments: { value: string; mix: number; within: number; contribution: number }[];
  /** Categorical: the categories whose share moved most (top 5), each share change split the same way. */
  categories?: { category: string; change: number; mix: number; within: number }[];
}

/** Performance of a window once labels have joined (classification or regression). */
export interface PerformanceResult {
  labelled: number;
  predictions: number;
  coverage: number;
  metrics: Record<string, number | null>;
  /** Why a metric is null for this model whatever the labels, by metric name. */
  unavailable?: Record<string, string>;
  labelDelayP50Ms?: number | null;
  labelDelayP95Ms?: number | null;
}

/** One evaluation of one window of one model against its reference. */
export interface Evaluation {
  /** Deterministic: model, window name and window start. */
  evaluationId: string;
  modelId: string;
  modelVersion: string | null;
  windowName: string;
  windowStart: number;
  windowEnd: number;
  sampleSize: number;
  referenceId: string;
  evaluatedAt: number;
  /**
   * Share of features in drift; `weightedShare` weighs each by its importance
   * (src/core/model/feature-importance.ts). `drift` holds when either reaches
   * its threshold.
   */
  datasetDrift: { share: number; drift: boolean; weightedShare?: number };
  features: Record<string, FeatureResult>;
  /** Score and predicted-class drift, keyed `score` / `prediction`. */
  prediction?: Record<string, FeatureResult>;
  dataQuality?: { missingRate: Record<string, number>; outOfRange: Record<string, number>; newCategories: Record<string, string[]>; typeErrors: number };
  proxy?: Record<string, number | null>;
  performance?: PerformanceResult;
  /** Multivariate drift: the numeric features' reconstruction error against the reference's (when enabled and fitted). */
  multivariate?: MultivariateResult;
  /** Performance estimated without labels from calibrated scores (CBPE), with its verdicts; `status: unavailable` says why not. */
  estimatedPerformance?: EstimatedPerformanceResult;
  /** Verdicts per segment (model `segments`), and the attribution of each numeric feature's change to them. */
  segments?: { results: SegmentResult[]; attribution: AttributionResult[] };
  /** False when the window had fewer than minSamples events: reported, never alerted on. */
  alertable: boolean;
}

export type { DriftAlert };
