import { fail, isObject, number } from './config-checks.js';

/**
 * How a metric is compared with the reference: `drop` alerts when
 * `reference - current` reaches a level (accuracy, F1, AUC: higher is better);
 * `rise` alerts when `current / reference - 1` reaches a level (RMSE, MAE,
 * Brier: lower is better).
 */
export type PerformanceDirection = 'drop' | 'rise';

export interface PerformanceThreshold {
  readonly warning: number;
  readonly critical: number;
  readonly enabled: boolean;
}

/** A model's `performance` block, with defaults filled in. */
export interface PerformanceConfig {
  /**
   * Whether the model's inferences are recorded for label joins. Default true;
   * false for a model that never gets labels, so its predictions do not wait
   * out the label horizon in Redis (about 240 bytes each).
   */
  readonly labels: boolean;
  /** A window with fewer labelled predictions is reported but never alerts. Default 100. */
  readonly minLabelled: number;
  /** Score at or above which a `score` model predicts the positive class. Default 0.5. */
  readonly decisionThreshold: number;
  /** Per metric: levels and whether it alerts. */
  readonly thresholds: Readonly<Record<string, PerformanceThreshold>>;
}

/** Whether a metric is better high (`drop` alerts) or low (`rise` alerts). */
export const METRIC_DIRECTION: Readonly<Record<string, PerformanceDirection>> = Object.freeze({
  accuracy: 'drop',
  precision: 'drop',
  recall: 'drop',
  f1: 'drop',
  rocAuc: 'drop',
  confidenceAuc: 'drop',
  macroF1: 'drop',
  brier: 'rise',
  mae: 'rise',
  rmse: 'rise',
});

/**
 * Default levels (documented in docs/performance.md): an absolute drop of
 * 0.05 (WARNING) / 0.10 (CRITICAL) in accuracy, F1, ROC AUC, the confidence's
 * AUC (`scoreOf: predictedClass` models) or macro-F1, and
 * a relative rise of 10% / 25% in RMSE or MAE, below or above the reference
 * performance. Precision, recall and Brier score are reported and alert only
 * when enabled.
 */
export const DEFAULT_PERFORMANCE_THRESHOLDS: Readonly<Record<string, PerformanceThreshold>> = Object.freeze({
  accuracy: Object.freeze({ warning: 0.05, critical: 0.1, enabled: true }),
  f1: Object.freeze({ warning: 0.05, critical: 0.1, enabled: true }),
  rocAuc: Object.freeze({ warning: 0.05, critical: 0.1, enabled: true }),
  confidenceAuc: Object.freeze({ warning: 0.05, critical: 0.1, enabled: true }),
  macroF1: Object.freeze({ warning: 0.05, critical: 0.1, enabled: true }),
  precision: Object.freeze({ warning: 0.05, critical: 0.1, enabled: false }),
  recall: Object.freeze({ warning: 0.05, critical: 0.1, enabled: false }),
  brier: Object.freeze({ warning: 0.1, critical: 0.25, enabled: false }),
  mae: Object.freeze({ warning: 0.1, critical: 0.25, enabled: true }),
  rmse: Object.freeze({ warning: 0.1, critical: 0.25, enabled: true }),
});

export const DEFAULT_PERFORMANCE_CONFIG: PerformanceConfig = Object.freeze({
  labels: true,
  minLabelled: 100,
  decisionThreshold: 0.5,
  thresholds: DEFAULT_PERFORMANCE_THRESHOLDS,
});

/**
 * Validates a model's `performance` block:
 * `{labels?, minLabelled?, decisionThreshold?, thresholds?: {metric: {warning?, critical?, enabled?}}}`.
 * Errors name the field (`performance.thresholds.rmse.warning: ...`).
 */
export function parsePerformanceConfig(v: unknown): PerformanceConfig {
  if (v === undefined) return DEFAULT_PERFORMANCE_CONFIG;
  if (!isObject(v)) fail('performance', 'expected an object {labels?, minLabelled?, decisionThreshold?, thresholds?}');
  for (const k of Object.keys(v)) {
    if (!['labels', 'minLabelled', 'decisionThreshold', 'thresholds'].includes(k)) fail(`performance.${k}`, 'unknown field (expected one of labels, minLabelled, decisionThreshold, thresholds)');
  }
  if (v.labels !== undefined && typeof v.labels !== 'boolean') fail('performance.labels', `expected true or false, got ${JSON.stringify(v.labels)}`);
  const labels = v.labels === undefined ? DEFAULT_PERFORMANCE_CONFIG.labels : (v.labels as boolean);
  let minLabelled = DEFAULT_PERFORMANCE_CONFIG.minLabelled;
  if (v.minLabelled !== undefined) {
    if (typeof v.minLabelled !== 'number' || !Number.isInteger(v.minLabelled) || v.minLabelled < 1) fail('performance.minLabelled', `expected an integer >= 1, got ${JSON.stringify(v.minLabelled)}`);
    minLabelled = v.minLabelled;
  }
  const decisionThreshold = v.decisionThreshold === undefined ? 0.5 : number('performance.decisionThreshold', v.decisionThreshold, 0, 1);
  const thresholds: Record<string, PerformanceThreshold> = { ...DEFAULT_PERFORMANCE_THRESHOLDS };
  if (v.thresholds !== undefined) {
    if (!isObject(v.thresholds)) fail('performance.thresholds', 'expected an object keyed by metric');
    for (const [metric, t] of Object.entries(v.thresholds)) {
      const f = `performance.thresholds.${metric}`;
      if (!(metric in METRIC_DIRECTION)) fail(f, `unknown metric (expected one of ${Object.keys(METRIC_DIRECTION).join(', ')})`);
      if (!isObject(t)) fail(f, 'expected an object {warning?, critical?, enabled?}');
      for (const k of Object.keys(t)) if (!['warning', 'critical', 'enabled'].includes(k)) fail(`${f}.${k}`, 'unknown field (expected one of warning, critical, enabled)');
      const base = DEFAULT_PERFORMANCE_THRESHOLDS[metric];
      const max = METRIC_DIRECTION[metric] === 'drop' ? 1 : 1000;
      const warning = t.warning === undefined ? base.warning : number(`${f}.warning`, t.warning, 0, max);
      const critical = t.critical === undefined ? base.critical : number(`${f}.critical`, t.critical, 0, max);
      if (critical < warning) fail(`${f}.critical`, 'must not be below the warning level');
      if (t.enabled !== undefined && typeof t.enabled !== 'boolean') fail(`${f}.enabled`, `expected true or false, got ${JSON.stringify(t.enabled)}`);
      // Setting levels for a metric turns it on unless it says otherwise.
      const enabled = t.enabled === undefined ? true : (t.enabled as boolean);
      thresholds[metric] = Object.freeze({ warning, critical, enabled });
    }
  }
  return Object.freeze({ labels, minLabelled, decisionThreshold, thresholds: Object.freeze(thresholds) });
}

/** The JSON form of a performance block (what {@link parsePerformanceConfig} reads back). */
export function performanceConfigToJson(c: PerformanceConfig): Record<string, unknown> {
  return {
    labels: c.labels,
    minLabelled: c.minLabelled,
    decisionThreshold: c.decisionThreshold,
    thresholds: Object.fromEntries(Object.entries(c.thresholds).map(([k, t]) => [k, { ...t }])),
  };
}

