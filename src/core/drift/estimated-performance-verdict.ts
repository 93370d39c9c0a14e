import { METRIC_DIRECTION } from '../model/performance-config.js';
import type { ModelConfig } from '../model/model-config.js';
import { ESTIMATED_METRICS, estimatePerformance, type EstimatedMetric, type EstimatedPerformance } from '../performance/estimated-performance.js';
import type { ReferenceProfile } from '../profile/reference-profile.js';
import type { Pane } from '../windows/pane.js';
import { normalSurvival } from '../stats/normal.js';
import type { EstimatedMetricVerdict, EstimatedPerformanceResult, Severity } from './types.js';

/** The window's estimated performance, or undefined when the model has no calibration to estimate with. */
export function estimateWindow(pane: Pane): EstimatedPerformance | undefined {
  return pane.estimation ? estimatePerformance(pane.estimation) : undefined;
}

/** Estimated metrics that alert: enabled in the model's performance levels, estimated, and measured on the reference. */
export function estimatedAlertMetrics(model: ModelConfig, profile: ReferenceProfile, estimate: EstimatedPerformance | undefined): EstimatedMetric[] {
  if (!estimate || estimate.status !== 'estimated') return [];
  const reference = profile.performance?.metrics ?? {};
  return ESTIMATED_METRICS.filter((m) => model.performance.thresholds[m]?.enabled && METRIC_DIRECTION[m] === 'drop' && estimate.metrics[m] !== null && typeof reference[m] === 'number');
}

function referenceError(metric: EstimatedMetric, value: number, labelled: number): number {
  // The reference's own sampling error: binomial on its labelled rows (a bound for precision, recall and F1, whose
  // denominators are smaller; the window's error dominates for any window much smaller than the reference).
  return labelled > 0 ? Math.sqrt((value * (1 - value)) / labelled) * (metric === 'accuracy' ? 1 : 2) : 0;
}

/**
 * Judges each alerting metric of an estimate: a drop from the reference's
 * realized value is ESTIMATED_PERFORMANCE when it is significant at `level`
 * (one-sided z on the window's and the reference's standard errors) and
 * reaches the model's performance levels (WARNING, CRITICAL).
 */
export function judgeEstimatedPerformance(model: ModelConfig, profile: ReferenceProfile, estimate: EstimatedPerformance | undefined, level: number): EstimatedPerformanceResult | undefined {
  if (!estimate) return undefined;
  const metrics = estimatedAlertMetrics(model, profile, estimate);
  if (estimate.status !== 'estimated' || metrics.length === 0) return estimate;
  const verdicts: Partial<Record<EstimatedMetric, EstimatedMetricVerdict>> = {};
  const labelled = profile.performance?.labelled ?? 0;
  for (const m of metrics) {
    const value = estimate.metrics[m]!;
    const reference = profile.performance!.metrics[m] as number;
    // Every estimated metric is better high (METRIC_DIRECTION drop): the degradation is the drop.
    const drop = reference - value;
    const se = Math.hypot(estimate.standardError[m] ?? 0, referenceError(m, reference, labelled));
    const pValue = se > 0 ? normalSurvival(drop / se) : drop > 0 ? 0 : 1;
    const t = model.performance.thresholds[m];
    const significant = pValue <= level && estimate.n >= model.minSamples;
    const severity: Severity = !significant ? 'NONE' : drop >= t.critical ? 'CRITICAL' : drop >= t.warning ? 'WARNING' : 'NONE';
    verdicts[m] = { estimate: value, reference, degradation: drop, pValue, level, severity };
  }
  return { ...estimate, verdicts };
}
