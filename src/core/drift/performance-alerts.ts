import type { ReferencePerformance } from '../performance/reference-performance.js';
import type { AlertCondition } from './alert-conditions.js';
import type { Severity } from './types.js';

import { METRIC_DIRECTION, type PerformanceConfig } from '../model/performance-config.js';

/** How far a metric is from the reference, in its direction: positive is worse. */
export function degradation(metric: string, current: number, reference: number): number {
  if (METRIC_DIRECTION[metric] === 'rise') {
    if (reference === 0) return current > 0 ? Infinity : 0;
    return current / reference - 1;
  }
  return reference - current;
}

/**
 * PERFORMANCE alert conditions of one window: one per enabled metric that
 * both the window and the reference have, valued by its degradation (see
 * {@link degradation}). Every such metric is listed, at NONE when within its
 * levels, so the alert tracker can count clean evaluations. Returns no
 * conditions without a reference performance.
 */
export function performanceConditions(
  current: Readonly<Record<string, number | null>>,
  reference: ReferencePerformance | undefined,
  config: PerformanceConfig,
  labelled: number,
): AlertCondition[] {
  if (!reference) return [];
  const out: AlertCondition[] = [];
  for (const [metric, t] of Object.entries(config.thresholds)) {
    if (!t.enabled) continue;
    const cur = current[metric];
    const ref = reference.metrics[metric];
    if (cur === null || cur === undefined || ref === null || ref === undefined) continue;
    const value = degradation(metric, cur, ref);
    const severity: Severity = value >= t.critical ? 'CRITICAL' : value >= t.warning ? 'WARNING' : 'NONE';
    out.push({
      key: `PERFORMANCE||${metric}`,
      kind: 'PERFORMANCE',
      feature: null,
      severity,
      triggered: severity === 'NONE' ? [] : [metric],
      measures: {
        [metric]: {
          value: Number.isFinite(value) ? value : Number.MAX_VALUE,
          warning: t.warning,
          critical: t.critical,
          details: {
            current: String(cur),
            reference: String(ref),
            comparison: METRIC_DIRECTION[metric] === 'rise' ? 'relative rise above the reference' : 'drop below the reference',
            labelled: String(labelled),
          },
        },
      },
    });
  }
  return out;
}

/** True when a window has enough labelled predictions to alert on. */
export function performanceAlertable(labelled: number, config: PerformanceConfig): boolean {
  return labelled >= config.minLabelled;
}
