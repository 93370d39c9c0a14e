import { FIELD, binaryEntropy, delayBinValue, type PerformanceCounters } from './counters.js';
import type { PredictionKind } from '../model/model-config.js';

/** Metrics computed from performance counters only, so a window read from Redis, memory or a sample gives the same numbers. */

/** What the metrics read the counters by: the prediction kind, and what the score is the probability of. */
export type MetricsSpec = PredictionKind | { readonly kind: PredictionKind; readonly scoreOf?: 'predictedClass' };

function kindOf(spec: MetricsSpec): PredictionKind {
  return typeof spec === 'string' ? spec : spec.kind;
}

function scoresConfidence(spec: MetricsSpec): boolean {
  return typeof spec !== 'string' && spec.kind === 'class' && spec.scoreOf === 'predictedClass';
}

/** Why a metric that the counters cannot give is null, by metric name; empty when every metric can be computed. */
export function unavailableMetrics(spec: MetricsSpec): Record<string, string> {
  if (!scoresConfidence(spec)) return {};
  return {
    rocAuc:
      'the score is the predicted class\'s confidence (scoreOf: predictedClass), so a one-vs-rest ROC AUC would need every class\'s probability, which the events do not carry; confidenceAuc is the ROC AUC of the confidence for telling right predictions from wrong ones',
  };
}

function ratio(num: number, den: number): number | null {
  return den > 0 ? num / den : null;
}

/**
 * ROC AUC from the per-class score histograms: the probability that a random
 * positive scores above a random negative, ties (same bin) counting one half.
 * With 1000 bins the error is at most half the share of positive-negative pairs
 * that share a bin. Null without both classes.
 */
export function rocAucFromHistograms(positive: ReadonlyMap<number, number>, negative: ReadonlyMap<number, number>): number | null {
  return rocAucWithBound(positive, negative).auc;
}

/**
 * ROC AUC from the per-class score histograms and its error bound: the exact
 * AUC of the same pairs differs by at most half the share of
 * positive-negative pairs that share a bin.
 */
export function rocAucWithBound(positive: ReadonlyMap<number, number>, negative: ReadonlyMap<number, number>): { auc: number | null; errorBound: number | null } {
  let p = 0;
  let n = 0;
  for (const v of positive.values()) p += v;
  for (const v of negative.values()) n += v;
  if (p === 0 || n === 0) return { auc: null, errorBound: null };
  const bins = [...new Set([...positive.keys(), ...negative.keys()])].sort((a, b) => a - b);
  let negBelow = 0;
  let sum = 0;
  let ties = 0;
  for (const b of bins) {
    const pb = positive.get(b) ?? 0;
    const nb = negative.get(b) ?? 0;
    sum += pb * (negBelow + 0.5 * nb);
    ties += pb * nb;
    negBelow += nb;
  }
  return { auc: sum / (p * n), errorBound: (0.5 * ties) / (p * n) };
}

function numericKeys(m: Map<string, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [k, v] of m) {
    const b = Number(k);
    if (Number.isInteger(b) && v > 0) out.set(b, v);
  }
  return out;
}

/** The q-quantile (0..1) of the label delays, from the delay histogram; null without labels. */
export function delayQuantile(c: PerformanceCounters, q: number): number | null {
  const bins = [...numericKeys(c.withPrefix('d:'))].sort((a, b) => a[0] - b[0]);
  let total = 0;
  for (const [, v] of bins) total += v;
  if (total === 0) return null;
  // Nearest rank on the binned values: the smallest bin holding at least q·total delays.
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [b, v] of bins) {
    seen += v;
    if (seen >= rank) return delayBinValue(b);
  }
  return delayBinValue(bins[bins.length - 1][0]);
}

/**
 * Classification and regression metrics of a bag of counters; a metric without data is null.
 * When the score is the predicted class's confidence (`scoreOf: predictedClass`),
 * `brier` is the Brier score of the confidence against whether the prediction
 * was right, `confidenceAuc` the ROC AUC of the confidence for telling right
 * predictions from wrong ones, and `rocAuc` null ({@link unavailableMetrics}).
 */
export function performanceMetrics(c: PerformanceCounters, spec: MetricsSpec): Record<string, number | null> {
  const kind = kindOf(spec);
  if (kind === 'regression') {
    const n = c.get(FIELD.regressionCount);
    return {
      mae: ratio(c.get(FIELD.absErrorSum), n),
      rmse: n > 0 ? Math.sqrt(Math.max(0, c.get(FIELD.sqErrorSum)) / n) : null,
      meanError: ratio(c.get(FIELD.errorSum), n),
    };
  }
  const tp = c.get(FIELD.tp);
  const fp = c.get(FIELD.fp);
  const tn = c.get(FIELD.tn);
  const fn = c.get(FIELD.fn);
  const binaryN = tp + fp + tn + fn;
  const out: Record<string, number | null> = {
    accuracy: ratio(tp + tn, binaryN),
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    brier: ratio(Math.max(0, c.get(FIELD.brierSum)), c.get(FIELD.brierCount)),
    rocAuc: null,
    rocAucErrorBound: null,
    labelPositiveRate: ratio(tp + fn, binaryN),
  };
  const auc = rocAucWithBound(numericKeys(c.withPrefix('h1:')), numericKeys(c.withPrefix('h0:')));
  if (scoresConfidence(spec)) {
    out.confidenceAuc = auc.auc;
    out.confidenceAucErrorBound = auc.errorBound;
  } else {
    out.rocAuc = auc.auc;
    out.rocAucErrorBound = auc.errorBound;
  }
  if (kind === 'class') {
    const actual = c.withPrefix('ca:');
    const predicted = c.withPrefix('cp:');
    const truePos = c.withPrefix('ct:');
    let labelledWithPrediction = 0;
    for (const v of predicted.values()) labelledWithPrediction += v;
    out.accuracy = ratio(c.get(FIELD.correct), labelledWithPrediction);
    const classes = new Set([...actual.keys(), ...predicted.keys()]);
    let f1Sum = 0;
    for (const k of classes) {
      const den = (actual.get(k) ?? 0) + (predicted.get(k) ?? 0);
      f1Sum += den > 0 ? (2 * (truePos.get(k) ?? 0)) / den : 0;
    }
    out.macroF1 = classes.size > 0 && labelledWithPrediction > 0 ? f1Sum / classes.size : null;
  }
  return out;
}

/** Label-free metrics of the predictions: positive rate, score (or prediction) mean and std, entropy. */
export function proxyMetrics(c: PerformanceCounters, spec: MetricsSpec): Record<string, number | null> {
  const kind = kindOf(spec);
  const sn = c.get(FIELD.scoreCount);
  const mean = ratio(c.get(FIELD.scoreSum), sn);
  const variance = sn > 1 && mean !== null ? Math.max(0, (c.get(FIELD.scoreSquares) - sn * mean * mean) / (sn - 1)) : null;
  const std = variance === null ? null : Math.sqrt(variance);
  if (kind === 'regression') return { predictionMean: mean, predictionStd: std };
  const pk = c.get(FIELD.predictedKnown);
  const positiveRate = ratio(c.get(FIELD.predictedPositive), pk);
  let entropy: number | null;
  if (kind === 'class') {
    const counts = [...c.withPrefix('pc:').values()].filter((v) => v > 0);
    const total = counts.reduce((a, b) => a + b, 0);
    entropy = total > 0 ? -counts.reduce((h, v) => h + (v / total) * Math.log(v / total), 0) : null;
  } else {
    entropy = positiveRate === null ? null : binaryEntropy(positiveRate);
  }
  return {
    positiveRate,
    scoreMean: mean,
    scoreStd: std,
    predictionEntropy: entropy,
    meanScoreEntropy: ratio(c.get(FIELD.scoreEntropy), sn),
  };
}

/** Everything the API serves about one window's performance. */
export interface PerformanceSummary {
  labelled: number;
  predictions: number;
  /** Labelled share of the window's predictions; null without predictions. */
  coverage: number | null;
  metrics: Record<string, number | null>;
  /** Why a metric is null for this model whatever the data, by metric name (absent when none is). */
  unavailable?: Record<string, string>;
  proxy: Record<string, number | null>;
  labelDelayP50Ms: number | null;
  labelDelayP95Ms: number | null;
}

/** Summarizes a bag of counters: counts, coverage, metrics, proxy metrics and label delay. */
export function summarizePerformance(c: PerformanceCounters, spec: MetricsSpec): PerformanceSummary {
  const labelled = c.get(FIELD.labelled);
  const predictions = c.get(FIELD.predictions);
  const unavailable = unavailableMetrics(spec);
  return {
    labelled,
    predictions,
    coverage: predictions > 0 ? Math.min(1, labelled / predictions) : null,
    metrics: performanceMetrics(c, spec),
    ...(Object.keys(unavailable).length > 0 ? { unavailable } : {}),
    proxy: proxyMetrics(c, spec),
    labelDelayP50Ms: delayQuantile(c, 0.5),
    labelDelayP95Ms: delayQuantile(c, 0.95),
  };
}
