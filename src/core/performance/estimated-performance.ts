import type { EstimationSummary } from './estimation-summary.js';
import { rocAucFromHistograms } from './metrics.js';
import type { EstimatedMetric, EstimatedPerformance } from '../drift/types.js';

export type { EstimatedMetric, EstimatedPerformance };

/** Metrics estimated without labels (confidence-based, as in CBPE). */
export const ESTIMATED_METRICS: readonly EstimatedMetric[] = ['accuracy', 'precision', 'recall', 'f1', 'rocAuc'];

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}

function binomialSe(p: number | null, n: number): number | null {
  return p === null || n <= 0 ? null : Math.sqrt((p * (1 - p)) / n);
}

/** Hanley and McNeil's standard error of an AUC with `p` positives and `q` negatives. */
export function aucStandardError(auc: number | null, p: number, q: number): number | null {
  if (auc === null || p <= 0 || q <= 0) return null;
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  return Math.sqrt(Math.max(0, (auc * (1 - auc) + (p - 1) * (q1 - auc * auc) + (q - 1) * (q2 - auc * auc)) / (p * q)));
}

/**
 * Estimated performance of a window from its {@link EstimationSummary}: each
 * event counts as a positive with its bin's calibrated probability, so the
 * expected confusion matrix is the sums of those probabilities by predicted
 * class, and the ROC AUC comes from the expected per-class histograms over
 * the (ordered) calibration bins. Assumes the calibration fitted on the
 * reference still holds: the score may shift, P(label | score) may not.
 */
export function estimatePerformance(summary: EstimationSummary): EstimatedPerformance {
  const { profile } = summary.spec;
  if (!profile.reliable) return { status: 'unavailable', reason: profile.reason ?? 'the calibration is not reliable' };
  if (profile.classes) return estimateByClass(summary, profile.classes);
  const c = summary.counts;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  const positive = new Map<number, number>();
  const negative = new Map<number, number>();
  for (let b = 0; b < profile.probability.length; b++) {
    const p = profile.probability[b];
    const neg = c[2 * b];
    const pos = c[2 * b + 1];
    tp += pos * p;
    fp += pos * (1 - p);
    fn += neg * p;
    tn += neg * (1 - p);
    if (neg + pos > 0) {
      positive.set(b, (neg + pos) * p);
      negative.set(b, (neg + pos) * (1 - p));
    }
  }
  const n = tp + fp + fn + tn;
  if (n === 0) return { status: 'unavailable', reason: 'no scored events in the window' };
  const rocAuc = rocAucFromHistograms(positive, negative);
  const metrics: Record<EstimatedMetric, number | null> = {
    accuracy: (tp + tn) / n,
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    rocAuc,
  };
  const standardError: Record<EstimatedMetric, number | null> = {
    accuracy: binomialSe(metrics.accuracy, n),
    precision: binomialSe(metrics.precision, tp + fp),
    recall: binomialSe(metrics.recall, tp + fn),
    f1: binomialSe(metrics.f1, (2 * tp + fp + fn) / 2),
    rocAuc: aucStandardError(rocAuc, tp + fn, fp + tn),
  };
  return { status: 'estimated', n, confusion: { tp, fp, fn, tn }, metrics, standardError, interval: intervals(metrics, standardError), calibration: calibrationOf(summary) };
}

/** 95% interval of each metric: estimate +- 1.96 standard errors, within [0, 1]. */
function intervals(metrics: Record<EstimatedMetric, number | null>, standardError: Record<EstimatedMetric, number | null>): Record<EstimatedMetric, [number, number] | null> {
  const interval = {} as Record<EstimatedMetric, [number, number] | null>;
  for (const m of ESTIMATED_METRICS) {
    const v = metrics[m];
    const se = standardError[m];
    interval[m] = v === null || se === null ? null : [Math.max(0, v - 1.96 * se), Math.min(1, v + 1.96 * se)];
  }
  return interval;
}

function calibrationOf(summary: EstimationSummary): { labelled: number; calibrationError: number } {
  return { labelled: summary.spec.profile.labelled, calibrationError: summary.spec.profile.calibrationError };
}

/**
 * Multi-class estimate: the calibrated probability of a bin is that of the
 * prediction being right, so the expected accuracy is its mean over the
 * window's events and each class's expected precision its mean over the
 * events predicted as that class. `precision` is the positive class's (one
 * vs rest, as realized); recall, F1 and ROC AUC need every class's
 * probability, which the events do not carry, and are not estimated.
 */
function estimateByClass(summary: EstimationSummary, classes: readonly string[]): EstimatedPerformance {
  const { profile } = summary.spec;
  const k = summary.columns;
  const predicted = new Array<number>(k).fill(0);
  const correct = new Array<number>(k).fill(0);
  for (let b = 0; b < profile.probability.length; b++) {
    for (let j = 0; j < k; j++) {
      const c = summary.counts[b * k + j];
      predicted[j] += c;
      correct[j] += c * profile.probability[b];
    }
  }
  const n = predicted.reduce((a, b) => a + b, 0);
  if (n === 0) return { status: 'unavailable', reason: 'no scored events in the window' };
  const perClass: Record<string, { predicted: number; precision: number | null; standardError: number | null }> = {};
  classes.forEach((c, j) => {
    const precision = ratio(correct[j], predicted[j]);
    perClass[c] = { predicted: predicted[j], precision, standardError: binomialSe(precision, predicted[j]) };
  });
  const accuracy = correct.reduce((a, b) => a + b, 0) / n;
  const positive = perClass[profile.positiveClass];
  const metrics: Record<EstimatedMetric, number | null> = { accuracy, precision: positive?.precision ?? null, recall: null, f1: null, rocAuc: null };
  const standardError: Record<EstimatedMetric, number | null> = { accuracy: binomialSe(accuracy, n), precision: positive?.standardError ?? null, recall: null, f1: null, rocAuc: null };
  return { status: 'estimated', n, perClass, metrics, standardError, interval: intervals(metrics, standardError), calibration: calibrationOf(summary) };
}
